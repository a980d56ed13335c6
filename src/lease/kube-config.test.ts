import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadKubeEndpoint } from './kube-config.ts';

const dir = mkdtempSync(join(tmpdir(), 'tartan-kubeconfig-'));
const write = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const kubeconfig = (user: string, cluster = 'server: https://10.0.0.1:6443\n    certificate-authority-data: Q0E='): string => `apiVersion: v1
kind: Config
current-context: c
contexts:
- name: c
  context: {cluster: k, user: u}
clusters:
- name: k
  cluster:
    ${cluster}
users:
- name: u
  user:
    ${user}
`;

describe('loadKubeEndpoint (no client-node)', () => {
  test('a kubeconfig with a bearer token and CA data', () => {
    const ep = loadKubeEndpoint({ file: write('token.yaml', kubeconfig('token: abc')), env: {} });
    assert.equal(ep?.server, 'https://10.0.0.1:6443');
    assert.equal(ep?.token, 'abc');
    assert.equal(ep?.ca?.toString(), 'CA');
  });

  test('client certificate files relative to the kubeconfig; --kube-api-url overrides the server', () => {
    write('cert.pem', 'CERT');
    write('key.pem', 'KEY');
    const ep = loadKubeEndpoint({ file: write('certs.yaml', kubeconfig('client-certificate: cert.pem\n    client-key: key.pem')), url: 'https://api.example:443/', env: {} });
    assert.equal(ep?.server, 'https://api.example:443');
    assert.equal(ep?.cert?.toString(), 'CERT');
    assert.equal(ep?.key?.toString(), 'KEY');
  });

  test('an exec plugin or auth provider is client-node\'s job: undefined', () => {
    assert.equal(loadKubeEndpoint({ file: write('exec.yaml', kubeconfig('exec: {command: aws, apiVersion: client.authentication.k8s.io/v1beta1}')), env: {} }), undefined);
  });

  test('errors name the file and the field', () => {
    assert.throws(() => loadKubeEndpoint({ file: write('nocontext.yaml', 'apiVersion: v1\nkind: Config\n'), env: {} }), /nocontext\.yaml: current-context: must name a context/);
    assert.throws(() => loadKubeEndpoint({ file: write('badserver.yaml', kubeconfig('token: a', 'server: 10.0.0.1')), env: {} }), /cluster k\.server: must be an http\(s\) URL/);
    assert.throws(() => loadKubeEndpoint({ file: write('missingcert.yaml', kubeconfig('client-certificate: nope.pem')), env: {} }), /client-certificate: cannot be read/);
    assert.throws(() => loadKubeEndpoint({ file: write('notyaml.yaml', 'a: [b'), env: {} }), /--kubeconfig-file: is not a readable YAML kubeconfig/);
  });

  test('in-cluster: the service env, the ServiceAccount CA and token file (IPv6 host bracketed)', () => {
    const sa = mkdtempSync(join(dir, 'sa-'));
    writeFileSync(join(sa, 'token'), 't0k3n\n');
    writeFileSync(join(sa, 'ca.crt'), 'SACA');
    const ep = loadKubeEndpoint({ env: { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, saDir: sa });
    assert.equal(ep?.server, 'https://[fd00::1]:443');
    assert.equal(ep?.tokenFile, join(sa, 'token'));
    assert.equal(ep?.ca?.toString(), 'SACA');
  });

  test('--kube-api-url alone: no credentials; nothing at all: an error naming the flags', () => {
    assert.deepEqual(loadKubeEndpoint({ url: 'http://127.0.0.1:8080', env: {}, saDir: join(dir, 'none') }), { server: 'http://127.0.0.1:8080', insecureSkipTlsVerify: true });
    assert.throws(() => loadKubeEndpoint({ env: {}, saDir: join(dir, 'none') }), /--kubeconfig-file: is needed outside a pod.*--kube-api-url/);
  });
});
