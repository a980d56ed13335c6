// The official clients, unchanged, against the emulator: @kubernetes/client-node
// 2.x (typed APIs, Watch, informer, patch content types, V1MicroTime) and
// kubectl (discovery, get/list/watch, the three patch types, apply --validate=false).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ApiException, AppsV1Api, CoordinationV1Api, CoreV1Api, makeInformer, PatchStrategy, setHeaderOptions, V1MicroTime, Watch, type V1Node,
} from '@kubernetes/client-node';
import { eventually, kubeHarness } from './fixture.ts';

const MANIFEST = (args: string): string => `
apiVersion: v1
kind: Namespace
metadata: {name: kube-flannel, labels: {k8s-app: flannel}}
---
kind: ClusterRole
apiVersion: rbac.authorization.k8s.io/v1
metadata: {name: flannel}
rules:
- {apiGroups: [""], resources: [pods], verbs: [get]}
- {apiGroups: [""], resources: [nodes], verbs: [get, list, watch]}
- {apiGroups: [""], resources: [nodes/status], verbs: [patch]}
---
kind: ClusterRoleBinding
apiVersion: rbac.authorization.k8s.io/v1
metadata: {name: flannel}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: flannel}
subjects: [{kind: ServiceAccount, name: flannel, namespace: kube-flannel}]
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: flannel, namespace: kube-flannel}
---
kind: ConfigMap
apiVersion: v1
metadata: {name: kube-flannel-cfg, namespace: kube-flannel}
data: {net-conf.json: '{"Network": "10.244.0.0/16", "Backend": {"Type": "vxlan"}}'}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: kube-flannel-ds, namespace: kube-flannel, labels: {app: flannel}}
spec:
  selector: {matchLabels: {app: flannel}}
  template:
    metadata: {labels: {app: flannel}}
    spec:
      hostNetwork: true
      serviceAccountName: flannel
      containers:
      - {name: kube-flannel, image: ghcr.io/flannel-io/flannel:v0.28.9, args: [${args}]}
`;

describe('kube-apiserver emulator: client-node and kubectl', () => {
  const h = kubeHarness();

  test('client-node: create, get, list, strategic status patch, 409 as ApiException', async () => {
    const core = h.kubeConfig().makeApiClient(CoreV1Api);
    await core.createNode({ body: { metadata: { name: 'cn-1', labels: { role: 'worker' } }, spec: { podCIDR: '10.244.3.0/24' } } });
    const read = await core.readNode({ name: 'cn-1' });
    assert.deepEqual(read.spec?.podCIDRs, ['10.244.3.0/24'], 'podCIDRs follows podCIDR');
    const listed = await core.listNode({ labelSelector: 'role=worker' });
    assert.deepEqual(listed.items.map((n) => n.metadata?.name), ['cn-1']);
    const smp = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);
    const patched = await core.patchNodeStatus({ name: 'cn-1', body: { metadata: { annotations: { 'flannel.alpha.coreos.com/public-ip': '10.0.0.3' } }, status: { conditions: [{ type: 'NetworkUnavailable', status: 'False', reason: 'FlannelIsUp' }] } } }, smp);
    assert.equal(patched.metadata?.annotations?.['flannel.alpha.coreos.com/public-ip'], '10.0.0.3');
    const stale: V1Node = { ...read, metadata: { ...read.metadata, labels: { role: 'other' } } };
    await assert.rejects(core.replaceNode({ name: 'cn-1', body: stale }), (err: unknown) => {
      assert.ok(err instanceof ApiException);
      assert.equal(err.code, 409);
      assert.equal((JSON.parse(String(err.body)) as { reason: string }).reason, 'Conflict');
      return true;
    });
  });

  test('client-node: Lease with V1MicroTime round-trips; a plain Date is refused with 400', async () => {
    const coord = h.kubeConfig().makeApiClient(CoordinationV1Api);
    const body = { metadata: { name: 'leader' }, spec: { holderIdentity: 'me', leaseDurationSeconds: 15, renewTime: new V1MicroTime() } };
    const created = await coord.createNamespacedLease({ namespace: 'kube-system', body });
    assert.match(String(created.spec?.renewTime), /\.\d{6}Z$/, 'renewTime arrives as six-digit text');
    const plain = { metadata: { name: 'plain' }, spec: { holderIdentity: 'me', renewTime: new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 278)) } };
    await assert.rejects(coord.createNamespacedLease({ namespace: 'kube-system', body: plain }), (err: unknown) => err instanceof ApiException && err.code === 400);
    const renewed = await coord.replaceNamespacedLease({ name: 'leader', namespace: 'kube-system', body: { ...created, spec: { ...created.spec, renewTime: new V1MicroTime() } } });
    assert.notEqual(renewed.metadata?.resourceVersion, created.metadata?.resourceVersion);
  });

  test('client-node: Watch from a list RV and an informer see adds, updates and deletes', async () => {
    const kc = h.kubeConfig();
    const core = kc.makeApiClient(CoreV1Api);
    const rv = (await core.listNode()).metadata?.resourceVersion;
    const seen: string[] = [];
    const watch = await new Watch(kc).watch('/api/v1/nodes', { resourceVersion: rv, allowWatchBookmarks: true }, (type, obj: V1Node) => seen.push(`${type} ${obj.metadata?.name ?? ''}`), () => undefined);
    const informer = makeInformer(kc, '/api/v1/nodes', () => core.listNode());
    const log: string[] = [];
    informer.on('add', (n: V1Node) => log.push(`add ${n.metadata?.name ?? ''}`));
    informer.on('update', (n: V1Node) => log.push(`update ${n.metadata?.name ?? ''}`));
    informer.on('delete', (n: V1Node) => log.push(`delete ${n.metadata?.name ?? ''}`));
    await informer.start();
    await core.createNode({ body: { metadata: { name: 'cn-2' } } });
    await core.patchNode({ name: 'cn-2', body: { metadata: { labels: { x: 'y' } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    await core.deleteNode({ name: 'cn-2' });
    await eventually(() => seen.length >= 3 && log.includes('delete cn-2'), 5000, 'watch and informer events');
    watch.abort();
    await informer.stop();
    assert.deepEqual(seen, ['ADDED cn-2', 'MODIFIED cn-2', 'DELETED cn-2']);
    assert.deepEqual(log.filter((l) => l.endsWith('cn-2')), ['add cn-2', 'update cn-2', 'delete cn-2']);
    assert.ok(log.includes('add cn-1'), 'the informer lists existing nodes first');
  });

  test('kubectl: create, get -o json, get -w, and the three patch types', async () => {
    const file = join(tmpdir(), `kubectl-node-${process.pid}.json`);
    writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'kc-1' } }));
    assert.equal((await h.kubectl(['create', '--validate=false', '-f', file])).stdout.trim(), 'node/kc-1 created');
    const watching = h.kubectl(['get', 'nodes', '-w', '-o', 'name', '--request-timeout=3s']);
    await new Promise((r) => setTimeout(r, 700));
    const patches: [string, string][] = [
      ['strategic', '{"metadata":{"annotations":{"a":"1","b":"2"}}}'],
      ['merge', '{"metadata":{"annotations":{"b":null}}}'],
      ['json', '[{"op":"add","path":"/metadata/labels","value":{"via":"json"}}]'],
    ];
    for (const [type, patch] of patches) {
      const out = await h.kubectl(['patch', 'node', 'kc-1', '--type', type, '-p', patch]);
      assert.equal(out.stdout.trim(), 'node/kc-1 patched', out.stderr);
    }
    const got = JSON.parse((await h.kubectl(['get', 'node', 'kc-1', '-o', 'json'])).stdout) as V1Node;
    assert.deepEqual([got.metadata?.annotations, got.metadata?.labels], [{ a: '1' }, { via: 'json' }]);
    const watched = (await watching).stdout.split('\n').filter((l) => l.includes('kc-1'));
    // One line for the listed state, one per patch.
    assert.equal(watched.length, 4, `kubectl get -w saw: ${watched.join(' | ')}`);
    const listed = await h.kubectl(['get', 'nodes', '-o', 'name']);
    assert.match(listed.stdout, /node\/kc-1/);
  });

  test('kubectl apply --validate=false creates a flannel-style manifest, then configures the change', async () => {
    const file = join(tmpdir(), `kubectl-manifest-${process.pid}.yaml`);
    writeFileSync(file, MANIFEST('--ip-masq, --kube-subnet-mgr'));
    const first = await h.kubectl(['apply', '--validate=false', '-f', file]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /clusterrole.rbac.authorization.k8s.io\/flannel created[\s\S]*daemonset.apps\/kube-flannel-ds created/);
    writeFileSync(file, MANIFEST('--ip-masq, --kube-subnet-mgr, --healthz-port=8081'));
    const second = await h.kubectl(['apply', '--validate=false', '-f', file]);
    assert.match(second.stdout, /configmap\/kube-flannel-cfg unchanged[\s\S]*daemonset.apps\/kube-flannel-ds configured/, second.stderr);
    const ds = await h.kubeConfig().makeApiClient(AppsV1Api).readNamespacedDaemonSet({ name: 'kube-flannel-ds', namespace: 'kube-flannel' });
    assert.deepEqual(ds.spec?.template.spec?.containers[0]?.args, ['--ip-masq', '--kube-subnet-mgr', '--healthz-port=8081']);
    assert.equal(ds.metadata?.generation, 2);
    assert.ok(ds.metadata?.annotations?.['kubectl.kubernetes.io/last-applied-configuration']);
  });
});
