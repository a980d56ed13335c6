// HTTPS for the emulator: kubectl (client-go) does not send a bearer token to an
// http:// server, so RBAC could not be exercised over plain HTTP. One
// self-signed certificate (CA:TRUE, SAN 127.0.0.1/localhost), made with openssl
// once per process, serves as both the server certificate and the kubeconfig's CA.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

export interface ServingCert {
  readonly certPem: string;
  readonly keyPem: string;
}

let cached: Promise<ServingCert> | undefined;

export function servingCert(): Promise<ServingCert> {
  cached ??= generate();
  return cached;
}

async function generate(): Promise<ServingCert> {
  const dir = mkdtempSync(join(tmpdir(), 'tartan-kube-tls-'));
  try {
    await promisify(execFile)('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '30',
      '-subj', '/CN=tartan-kube-apiserver-emulator',
      '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-addext', 'basicConstraints=critical,CA:TRUE',
      '-addext', 'keyUsage=critical,digitalSignature,keyCertSign',
      '-addext', 'extendedKeyUsage=serverAuth',
    ]);
    return { certPem: readFileSync(join(dir, 'cert.pem'), 'utf8'), keyPem: readFileSync(join(dir, 'key.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
