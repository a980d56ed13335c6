export * from './lease.ts';
export * from './store.ts';
export { LeaseSet } from './lease-set.ts';
export { EtcdLeaseStore, DEFAULT_PREFIX, DEFAULT_LEASE_TTL_SECONDS } from './etcd.ts';
export { createEtcdClient, type EtcdClientOptions } from './etcd-client.ts';
export { planAcquire, leaseFits } from './acquire.ts';
export { pickFreeSubnet, freeSubnets, fitsPool } from './allocate.ts';
export * from './route-status.ts';
export * from './hybrid.ts';
