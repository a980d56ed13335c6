// RBAC as the apiserver enforces it: the flannel ClusterRole grants exactly
// get/list/watch nodes, patch nodes/status and get pods; everything else is a
// 403 with the real message. Roles with resourceNames, Group subjects, wildcards
// and dangling roleRefs too.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiException, CoordinationV1Api, CoreV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { kubeHarness } from './fixture.ts';

const RBAC = '/apis/rbac.authorization.k8s.io/v1';
const FLANNEL = 'system:serviceaccount:kube-flannel:flannel';
const rule = (apiGroups: string[], resources: string[], verbs: string[], resourceNames?: string[]): Record<string, unknown> =>
  ({ apiGroups, resources, verbs, ...(resourceNames ? { resourceNames } : {}) });

async function status(p: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await p;
    return { code: 200, message: '' };
  } catch (err) {
    if (!(err instanceof ApiException)) throw err;
    return { code: err.code, message: (JSON.parse(String(err.body)) as { message: string }).message };
  }
}

describe('kube-apiserver emulator: RBAC', () => {
  const h = kubeHarness();
  let token = '';

  test('setup: the kube-flannel.yml RBAC objects', async () => {
    const posts: [string, Record<string, unknown>][] = [
      ['/api/v1/namespaces', { metadata: { name: 'kube-flannel' } }],
      [`${RBAC}/clusterroles`, { metadata: { name: 'flannel' }, rules: [rule([''], ['pods'], ['get']), rule([''], ['nodes'], ['get', 'list', 'watch']), rule([''], ['nodes/status'], ['patch'])] }],
      [`${RBAC}/clusterrolebindings`, { metadata: { name: 'flannel' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'flannel' }, subjects: [{ kind: 'ServiceAccount', name: 'flannel', namespace: 'kube-flannel' }] }],
      ['/api/v1/nodes', { metadata: { name: 'r-1' } }],
    ];
    for (const [path, body] of posts) assert.equal((await h.raw('POST', path, { body })).status, 201, path);
    token = h.api.admin.serviceAccountToken('kube-flannel', 'flannel');
  });

  test('client-node as the flannel ServiceAccount: allowed verbs pass, others get the exact 403', async () => {
    const core = h.kubeConfig(token).makeApiClient(CoreV1Api);
    assert.equal((await status(core.listNode())).code, 200);
    const smp = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);
    assert.equal((await status(core.patchNodeStatus({ name: 'r-1', body: { metadata: { annotations: { a: 'b' } } } }, smp))).code, 200);
    assert.deepEqual(await status(core.patchNode({ name: 'r-1', body: { metadata: { annotations: { a: 'c' } } } }, smp)), {
      code: 403, message: `nodes "r-1" is forbidden: User "${FLANNEL}" cannot patch resource "nodes" in API group "" at the cluster scope`,
    });
    assert.deepEqual(await status(core.readNodeStatus({ name: 'r-1' })), {
      code: 403, message: `nodes "r-1" is forbidden: User "${FLANNEL}" cannot get resource "nodes/status" in API group "" at the cluster scope`,
    });
    assert.equal((await status(core.readNamespacedPod({ name: 'flannel-x', namespace: 'kube-flannel' }))).code, 404, 'get pods is allowed: the pod is just missing');
    assert.deepEqual(await status(core.listNamespacedPod({ namespace: 'kube-flannel' })), {
      code: 403, message: `pods is forbidden: User "${FLANNEL}" cannot list resource "pods" in API group "" in the namespace "kube-flannel"`,
    });
    const coord = h.kubeConfig(token).makeApiClient(CoordinationV1Api);
    assert.deepEqual(await status(coord.listNamespacedLease({ namespace: 'kube-system' })), {
      code: 403, message: `leases.coordination.k8s.io is forbidden: User "${FLANNEL}" cannot list resource "leases" in API group "coordination.k8s.io" in the namespace "kube-system"`,
    });
  });

  test('kubectl as the flannel ServiceAccount prints the apiserver message', async () => {
    const kubeconfig = h.kubeconfigFor(token, 'flannel');
    const ok = await h.kubectl(['get', 'nodes', '-o', 'name'], { kubeconfig });
    assert.equal(ok.stdout.trim(), 'node/r-1', ok.stderr);
    const denied = await h.kubectl(['get', 'configmaps', '-n', 'kube-flannel'], { kubeconfig });
    assert.notEqual(denied.code, 0);
    assert.equal(denied.stderr.trim(), `Error from server (Forbidden): configmaps is forbidden: User "${FLANNEL}" cannot list resource "configmaps" in API group "" in the namespace "kube-flannel"`);
  });

  test('Role with resourceNames, Group subjects, apiGroup wildcards and a dangling roleRef', async () => {
    const ns = `${RBAC}/namespaces/kube-flannel`;
    await h.raw('POST', `${ns}/roles`, { body: { metadata: { name: 'cfg' }, rules: [rule([''], ['configmaps'], ['get'], ['kube-flannel-cfg']), rule(['*'], ['leases'], ['*'])] } });
    await h.raw('POST', `${ns}/rolebindings`, { body: { metadata: { name: 'cfg' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'cfg' }, subjects: [{ kind: 'Group', name: 'system:serviceaccounts:kube-flannel' }] } });
    await h.raw('POST', `${ns}/rolebindings`, { body: { metadata: { name: 'ghost' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'ghost' }, subjects: [{ kind: 'ServiceAccount', name: 'flannel' }] } });
    const core = h.kubeConfig(token).makeApiClient(CoreV1Api);
    assert.equal((await status(core.readNamespacedConfigMap({ name: 'kube-flannel-cfg', namespace: 'kube-flannel' }))).code, 404, 'the named configmap may be read (it does not exist)');
    assert.deepEqual(await status(core.readNamespacedConfigMap({ name: 'other', namespace: 'kube-flannel' })), {
      code: 403, message: `configmaps "other" is forbidden: User "${FLANNEL}" cannot get resource "configmaps" in API group "" in the namespace "kube-flannel": RBAC: clusterrole.rbac.authorization.k8s.io "ghost" not found`,
    });
    const coord = h.kubeConfig(token).makeApiClient(CoordinationV1Api);
    assert.equal((await status(coord.listNamespacedLease({ namespace: 'kube-flannel' }))).code, 200, 'the group binding grants leases in its namespace');
    const other = h.kubeConfig(h.api.admin.serviceAccountToken('kube-system', 'flannel')).makeApiClient(CoordinationV1Api);
    assert.equal((await status(other.listNamespacedLease({ namespace: 'kube-flannel' }))).code, 403, 'a same-named account elsewhere is not in the group');
    assert.equal((await h.raw('GET', '/api/v1/nodes', { token: 'not-a-token' })).json<{ reason: string; code: number }>().code, 401);
  });
});
