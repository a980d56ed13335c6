// The shared lease-store conformance suite against the Kubernetes store (Nodes on the
// kube-apiserver emulator, on a private etcd).
import { KUBE_GAPS, kubeLeaseFixture } from './lease-store-kube.ts';
import { leaseStoreConformance } from './lease-store.ts';

leaseStoreConformance('kubernetes', kubeLeaseFixture, KUBE_GAPS);
