// What a fresh apiserver puts in etcd before serving: the system namespaces and
// the cluster-admin ClusterRole bound to system:masters. Idempotent, so a second
// emulator on the same etcd prefix starts on the same state.
import { findResource } from './resources.ts';
import type { ObjectStore } from './store.ts';
import { prepareCreate } from './strategy.ts';
import { ApiError, type JsonObject } from './status.ts';

const RBAC = 'rbac.authorization.k8s.io';

const SEED: readonly { group: string; resource: string; obj: JsonObject }[] = [
  ...['default', 'kube-system', 'kube-public', 'kube-node-lease'].map((name) => ({
    group: '', resource: 'namespaces', obj: { metadata: { name, labels: { 'kubernetes.io/metadata.name': name } }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } },
  })),
  {
    group: RBAC, resource: 'clusterroles',
    obj: { metadata: { name: 'cluster-admin', labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' } }, rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }, { nonResourceURLs: ['*'], verbs: ['*'] }] },
  },
  {
    group: RBAC, resource: 'clusterrolebindings',
    obj: {
      metadata: { name: 'cluster-admin', labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' } },
      roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: [{ apiGroup: RBAC, kind: 'Group', name: 'system:masters' }],
    },
  },
];

export async function bootstrap(store: ObjectStore, now: () => Date): Promise<void> {
  for (const seed of SEED) {
    const r = findResource(seed.group, 'v1', seed.resource)!;
    try {
      await store.create(r, undefined, prepareCreate({ r, now }, structuredClone(seed.obj)));
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 409)) throw err;
    }
  }
}
