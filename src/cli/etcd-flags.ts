// The etcd flags every command shares (flanneld's names), and the store they build.
import type { Etcd3 } from 'etcd3';
import { type FlagSpec, type FlagValues, list, str } from '../config/flags.ts';
import { DEFAULT_PREFIX, EtcdLeaseStore, createEtcdClient } from '../lease/index.ts';
import { InvalidInputError } from '../errors.ts';

export const ETCD_FLAGS: readonly FlagSpec[] = [
  { name: 'etcd-endpoints', type: 'list', default: ['http://127.0.0.1:2379'], help: 'etcd endpoints, comma-separated' },
  { name: 'etcd-prefix', type: 'string', default: DEFAULT_PREFIX, help: 'etcd key prefix of the network config and leases' },
  { name: 'etcd-cafile', type: 'string', help: 'CA file for etcd TLS' },
  { name: 'etcd-certfile', type: 'string', help: 'client certificate for etcd TLS' },
  { name: 'etcd-keyfile', type: 'string', help: 'client key for etcd TLS' },
  { name: 'etcd-username', type: 'string', help: 'etcd user name (auth)' },
  { name: 'etcd-password', type: 'string', help: 'etcd password (auth)' },
];

export function etcdStoreFromFlags(values: FlagValues, opts: { leaseTtlSeconds?: number } = {}): { client: Etcd3; store: EtcdLeaseStore } {
  const endpoints = list(values, 'etcd-endpoints');
  for (const e of endpoints) {
    if (!/^https?:\/\/[^/]+/.test(e)) throw new InvalidInputError('--etcd-endpoints', e, 'each endpoint must be http://host:port or https://host:port');
  }
  const prefix = str(values, 'etcd-prefix') ?? DEFAULT_PREFIX;
  if (!prefix.startsWith('/')) throw new InvalidInputError('--etcd-prefix', prefix, 'must start with /');
  const client = createEtcdClient({
    endpoints,
    caFile: str(values, 'etcd-cafile'),
    certFile: str(values, 'etcd-certfile'),
    keyFile: str(values, 'etcd-keyfile'),
    username: str(values, 'etcd-username'),
    password: str(values, 'etcd-password'),
  });
  return { client, store: new EtcdLeaseStore({ client, prefix, leaseTtlSeconds: opts.leaseTtlSeconds }) };
}
