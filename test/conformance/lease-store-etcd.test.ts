// The shared lease-store conformance suite against the etcd store on a private etcd.
import { ETCD_GAPS, etcdLeaseFixture } from './lease-store-etcd.ts';
import { leaseStoreConformance } from './lease-store.ts';

leaseStoreConformance('etcd', etcdLeaseFixture, ETCD_GAPS);
