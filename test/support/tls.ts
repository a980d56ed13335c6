// Test certificates made with the openssl command line in a temp dir: a CA, a
// server certificate for 127.0.0.1, client certificates by CN, an expired one
// (`openssl ca -startdate/-enddate`: OpenSSL 3.0 has no -not_after), and a second,
// unrelated CA for the "wrong CA" cases.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface KeyPair {
  readonly cert: string;
  readonly key: string;
}

export interface TestPki {
  readonly dir: string;
  readonly ca: string;
  /** A CA that signed nothing etcd trusts. */
  readonly otherCa: string;
  /** Server certificate for 127.0.0.1 / localhost, signed by `ca`. */
  readonly server: KeyPair;
  /** A client certificate signed by `ca` (`expired`: valid only in 2001). */
  client(cn: string, opts?: { expired?: boolean; signer?: 'ca' | 'other' }): KeyPair;
  remove(): void;
}

function openssl(dir: string, args: readonly string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function makeCa(dir: string, name: string): void {
  openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${name}`]);
}

/** A leaf key + CSR, signed by `signer` with `openssl ca` so that the validity dates can be in the past. */
function makeLeaf(dir: string, o: { name: string; cn: string; signer: string; server: boolean; expired: boolean; ips?: readonly string[] }): KeyPair {
  const sans = ['127.0.0.1', ...(o.ips ?? [])].map((ip) => `IP:${ip}`).join(',');
  const ext = o.server ? `subjectAltName=${sans},DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth` : 'extendedKeyUsage=clientAuth';
  writeFileSync(join(dir, `${o.name}.ext`), `${ext}\n`);
  writeFileSync(join(dir, `${o.signer}.cnf`), [
    '[ca]', 'default_ca = test', '[test]', `dir = ${dir}`, `database = ${dir}/${o.signer}.index`, `new_certs_dir = ${dir}`,
    `certificate = ${dir}/${o.signer}.crt`, `private_key = ${dir}/${o.signer}.key`, `serial = ${dir}/${o.signer}.serial`,
    'default_md = sha256', 'policy = any', 'unique_subject = no', 'copy_extensions = none', '[any]', 'commonName = supplied', '',
  ].join('\n'));
  openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${o.name}.key`, '-out', `${o.name}.csr`, '-subj', `/CN=${o.cn}`]);
  const dates = o.expired ? ['-startdate', '20010101000000Z', '-enddate', '20010102000000Z'] : ['-days', '2'];
  openssl(dir, ['ca', '-batch', '-config', `${o.signer}.cnf`, '-in', `${o.name}.csr`, '-out', `${o.name}.crt`, '-extfile', `${o.name}.ext`, '-notext', ...dates]);
  return { cert: join(dir, `${o.name}.crt`), key: join(dir, `${o.name}.key`) };
}

/** `serverIps`: more addresses the server certificate is valid for (etcd reached through a lab relay). */
export function makeTestPki(opts: { serverIps?: readonly string[] } = {}): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'tartan-pki-'));
  for (const ca of ['ca', 'other']) {
    makeCa(dir, ca);
    writeFileSync(join(dir, `${ca}.index`), '');
    writeFileSync(join(dir, `${ca}.serial`), '1000\n');
  }
  const server = makeLeaf(dir, { name: 'server', cn: 'etcd', signer: 'ca', server: true, expired: false, ips: opts.serverIps });
  let n = 0;
  return {
    dir, ca: join(dir, 'ca.crt'), otherCa: join(dir, 'other.crt'), server,
    client: (cn, opts = {}) => makeLeaf(dir, { name: `client-${++n}`, cn, signer: opts.signer ?? 'ca', server: false, expired: opts.expired ?? false }),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
