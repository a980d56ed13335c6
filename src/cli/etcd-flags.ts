// The etcd flags every command shares (flanneld's names), and the store they build.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Etcd3 } from 'etcd3';
import { type Check, endpointUrl, pemFile } from '../config/checks.ts';
import { type FlagOptions, flagTable } from '../config/flags.ts';
import { DEFAULT_PREFIX, EtcdLeaseStore, createEtcdClient } from '../lease/index.ts';

const etcdPrefix = (value: string): string | undefined => (value.startsWith('/') ? undefined : 'must start with /');

/** A PEM certificate that is valid now: etcd would refuse an expired one with nothing but "bad certificate". */
const currentCertificate: Check = (value) => {
  const notPem = pemFile('CERTIFICATE')(value);
  if (notPem !== undefined) return notPem;
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(readFileSync(value));
  } catch (err) {
    return `is not a readable X.509 certificate (${(err as Error).message})`;
  }
  if (Date.parse(cert.validTo) < Date.now()) return `the certificate expired on ${new Date(cert.validTo).toISOString()}`;
  if (Date.parse(cert.validFrom) > Date.now()) return `the certificate is not valid before ${new Date(cert.validFrom).toISOString()}`;
  return undefined;
};

export const ETCD_FLAGS = flagTable([
  { name: 'etcd-endpoints', type: 'list', default: ['http://127.0.0.1:2379'], check: endpointUrl, help: 'etcd endpoints, comma-separated (http[s]://host:port; a user:password@ in them is never printed)' },
  { name: 'etcd-prefix', type: 'string', default: DEFAULT_PREFIX, check: etcdPrefix, help: 'etcd key prefix of the network config and leases' },
  { name: 'etcd-cafile', type: 'string', check: pemFile('CERTIFICATE'), help: 'CA file for etcd TLS (PEM)' },
  { name: 'etcd-certfile', type: 'string', check: currentCertificate, help: 'client certificate for etcd TLS (PEM)' },
  { name: 'etcd-keyfile', type: 'string', check: pemFile('PRIVATE KEY'), help: 'client key for etcd TLS (PEM)' },
  { name: 'etcd-username', type: 'string', help: 'etcd user name (auth)' },
  { name: 'etcd-password', type: 'string', secret: true, help: 'etcd password (auth; never printed)' },
]);

export type EtcdFlagOptions = FlagOptions<typeof ETCD_FLAGS>;

/** The values were checked while parsing (endpoints, prefix, PEM files). */
export function etcdStoreFromFlags(values: EtcdFlagOptions, opts: { leaseTtlSeconds?: number } = {}): { client: Etcd3; store: EtcdLeaseStore } {
  const prefix = values['etcd-prefix'];
  const { hosts, auth } = splitUserinfo(values['etcd-endpoints']);
  const client = createEtcdClient({
    endpoints: hosts,
    caFile: values['etcd-cafile'],
    certFile: values['etcd-certfile'],
    keyFile: values['etcd-keyfile'],
    username: values['etcd-username'] ?? auth?.username,
    password: values['etcd-username'] === undefined ? auth?.password : values['etcd-password'],
  });
  return { client, store: new EtcdLeaseStore({ client, prefix, leaseTtlSeconds: opts.leaseTtlSeconds }) };
}

/**
 * user:password@ in an endpoint is etcd auth (the first one found; --etcd-username
 * wins): the etcd client would dial it as part of the host name, and print it.
 */
function splitUserinfo(endpoints: readonly string[]): { hosts: string[]; auth?: { username: string; password: string } } {
  let auth: { username: string; password: string } | undefined;
  const hosts = endpoints.map((endpoint) => {
    const url = new URL(endpoint);
    if (url.username !== '') auth ??= { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
    return `${url.protocol}//${url.host}`;
  });
  return { hosts, auth };
}
