// The Kubernetes lease store against the kube-apiserver emulator on the real etcd:
// Nodes as leases exactly as flannel reads them, the own lease written as flannel
// writes it, the watch (events, 410 re-list without deletions, dropped watches),
// route status as node annotations, NetworkUnavailable.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { kubeHarness } from '../emulators/kube-apiserver/fixture.ts';
import { KubeClient } from '../../src/lease/kube-client.ts';
import { KubeLeaseStore, NETWORK_UNAVAILABLE_REASON } from '../../src/lease/kube.ts';
import { ROUTE_STATUS_ANNOTATION, annotationKeys, heartbeatAnnotation } from '../../src/lease/kube-node.ts';
import { parseNetworkConfig } from '../../src/config/network.ts';
import type { LeaseEvent } from '../../src/lease/store.ts';
import type { PublishedRouteStatus } from '../../src/lease/route-status.ts';
import { waitFor } from '../support/wait.ts';

const keys = annotationKeys();
const config = parseNetworkConfig(JSON.stringify({ Network: '10.244.0.0/16', Backend: { Type: 'vxlan' } }), 'test');

function flannelNode(name: string, cidr: string | undefined, ip: string, extra: Record<string, string> = {}): Record<string, unknown> {
  return {
    apiVersion: 'v1', kind: 'Node',
    metadata: {
      name,
      annotations: {
        [keys.subnetManager]: 'true', [keys.backendType]: 'vxlan',
        [keys.backendData]: `{"VNI":1,"VtepMAC":"02:00:00:00:00:${ip.split('.')[3]!.padStart(2, '0')}"}`,
        [keys.publicIp]: ip, ...extra,
      },
    },
    spec: cidr ? { podCIDR: cidr, podCIDRs: [cidr] } : {},
    status: { images: [{ names: ['registry.example/big:1'], sizeBytes: 1 }], conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

describe('KubeLeaseStore on the kube-apiserver emulator', () => {
  const h = kubeHarness({ bookmarkIntervalMs: 500 });
  const lifetime = new AbortController();
  let api: KubeClient;
  const stores: KubeLeaseStore[] = [];
  const newStore = (o: Partial<ConstructorParameters<typeof KubeLeaseStore>[0]> = {}): KubeLeaseStore => {
    const s = new KubeLeaseStore({ api, keys, lifetime: lifetime.signal, ipv6: false, ...o });
    stores.push(s);
    return s;
  };
  const create = async (node: Record<string, unknown>): Promise<void> => {
    const res = await h.raw('POST', '/api/v1/nodes', { body: node });
    assert.equal(res.status, 201, res.text);
  };
  const patch = async (name: string, body: unknown, sub = ''): Promise<void> => {
    const res = await h.raw('PATCH', `/api/v1/nodes/${name}${sub}`, { body, contentType: 'application/strategic-merge-patch+json' });
    assert.equal(res.status, 200, res.text);
  };
  const getNode = async (name: string): Promise<{ metadata: { annotations?: Record<string, string> }; status?: { conditions?: { type: string; status: string; reason?: string }[] } }> =>
    (await h.raw('GET', `/api/v1/nodes/${name}`)).json();

  before(() => {
    api = new KubeClient(h.kubeConfig());
  });
  after(() => {
    lifetime.abort();
    api.close();
  });

  test('lists flannel nodes as leases; unmanaged nodes are no peers; a malformed node is skipped naming node and field', async () => {
    await create(flannelNode('n1', '10.244.1.0/24', '192.168.50.1'));
    await create(flannelNode('n2', '10.244.2.0/24', '192.168.50.2', { [keys.backendData]: '{not json' }));
    await create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'plain' }, spec: { podCIDR: '10.244.3.0/24' } });
    await create(flannelNode('n4', undefined, '192.168.50.4'));
    const store = newStore();
    const snap = await store.list(AbortSignal.timeout(10_000));
    assert.deepEqual(snap.leases.map((l) => l.key), ['10.244.1.0-24']);
    const lease = snap.leases[0]!;
    assert.equal(lease.attrs.publicIp, '192.168.50.1');
    assert.equal(lease.attrs.backendType, 'vxlan');
    assert.deepEqual(lease.attrs.backendData, { VNI: 1, VtepMAC: '02:00:00:00:00:01' });
    const skipped = new Map(snap.skipped.map((s) => [s.key, s.error.message]));
    assert.match(skipped.get('node/n2') ?? '', /node n2 annotation flannel\.alpha\.coreos\.com\/backend-data: is not JSON/);
    assert.match(skipped.get('node/n4') ?? '', /node n4 spec\.podCIDRs: missing an IPv4 CIDR/);
    assert.equal(skipped.has('node/plain'), false);
    // Only a handful of fields are kept per node: no status, no images.
    const view = store.cache.get('n1')!;
    assert.deepEqual(Object.keys(view).sort(), ['annotations', 'createdMs', 'name', 'podCIDR', 'podCIDRs']);
  });

  test('watch: put on a lease change, nothing on status churn, delete when the node goes or stops being managed', async () => {
    const store = newStore();
    const snap = await store.list(AbortSignal.timeout(10_000));
    const events: LeaseEvent[] = [];
    const ac = new AbortController();
    const watching = store.watch({ fromRevision: snap.revision + 1, signal: ac.signal, onEvents: (evs) => events.push(...evs) });
    await create(flannelNode('w1', '10.244.11.0/24', '192.168.50.11'));
    await waitFor('put for w1', () => events.some((e) => e.type === 'put' && e.lease.key === '10.244.11.0-24'), 5000);
    const count = events.length;
    await patch('w1', { status: { conditions: [{ type: 'Ready', status: 'False' }] } }, '/status');
    await patch('w1', { metadata: { labels: { churn: '1' } } });
    await patch('w1', { metadata: { annotations: { [keys.publicIp]: '192.168.50.111' } } });
    await waitFor('put with the new public-ip', () => events.some((e) => e.type === 'put' && e.lease.attrs.publicIp === '192.168.50.111'), 5000);
    assert.deepEqual(events.slice(count).map((e) => (e.type === 'put' ? `put ${e.lease.key} ${e.lease.attrs.publicIp}` : e.type)), ['put 10.244.11.0-24 192.168.50.111'], 'status and label churn must emit nothing');
    await patch('w1', { metadata: { annotations: { [keys.subnetManager]: null } } });
    await waitFor('delete when unmanaged', () => events.some((e) => e.type === 'delete' && e.key === '10.244.11.0-24'), 5000);
    await patch('w1', { metadata: { annotations: { [keys.subnetManager]: 'true' } } });
    await waitFor('put again', () => events.filter((e) => e.type === 'put' && e.lease.key === '10.244.11.0-24').length === 3, 5000);
    assert.equal((await h.raw('DELETE', '/api/v1/nodes/w1')).status, 200);
    await waitFor('delete when the node goes', () => events.filter((e) => e.type === 'delete').length === 2, 5000);
    ac.abort();
    await watching;
  });

  test('dropped watches resume from the resourceVersion: no re-list, nothing missed', async () => {
    const store = newStore();
    const snap = await store.list(AbortSignal.timeout(10_000));
    const lists = store.cache.stats.lists;
    const puts = new Set<string>();
    const ac = new AbortController();
    const watching = store.watch({ fromRevision: snap.revision + 1, signal: ac.signal, onEvents: (evs) => evs.forEach((e) => e.type === 'put' && puts.add(e.lease.key)) });
    for (let i = 0; i < 3; i++) {
      h.api.admin.dropWatches();
      await create(flannelNode(`d${i}`, `10.244.${20 + i}.0/24`, `192.168.50.${20 + i}`));
    }
    await waitFor('three puts across dropped watches', () => puts.size === 3, 15_000);
    assert.equal(store.cache.stats.lists, lists, 'a dropped watch resumes, it does not re-list');
    ac.abort();
    await watching;
  });

  test('acquire waits for the podCIDR (saying why), then writes flannel\'s annotations through nodes/status, once', async () => {
    await create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'own', annotations: { [keys.publicIpOverwrite]: '203.0.113.7' } }, spec: {} });
    const waiting: (string | undefined)[] = [];
    const store = newStore({ nodeName: 'own', onWaiting: (why) => waiting.push(why) });
    const attrs = { publicIp: '192.168.50.99', backendType: 'vxlan', backendData: { VNI: 1, VtepMAC: '02:aa:bb:cc:dd:ee' } };
    const acquiring = store.acquire(config, { attrs }, AbortSignal.timeout(20_000));
    await waitFor('a waiting reason', () => waiting.length > 0, 5000);
    assert.match(waiting[0] ?? '', /node "own" has no spec\.podCIDR: kube-controller-manager assigns it only with --allocate-node-cidrs/);
    h.api.admin.clearCalls();
    await patch('own', { spec: { podCIDR: '10.244.77.0/24' } });
    const lease = await acquiring;
    assert.equal(lease.key, '10.244.77.0-24');
    assert.equal(lease.attrs.publicIp, '203.0.113.7', 'public-ip-overwrite wins');
    assert.equal(lease.expiresAt, undefined);
    const node = await getNode('own');
    const a = node.metadata.annotations ?? {};
    assert.equal(a[keys.subnetManager], 'true');
    assert.equal(a[keys.backendType], 'vxlan');
    assert.equal(a[keys.backendData], '{"VNI":1,"VtepMAC":"02:aa:bb:cc:dd:ee"}');
    assert.equal(a[keys.publicIp], '203.0.113.7');
    // The test's own spec patch aside, tartan wrote once, through the status subresource.
    const writes = h.api.admin.calls().filter((c) => c.method !== 'GET' && c.path.startsWith('/api/v1/nodes/own'));
    assert.deepEqual(writes.map((c) => `${c.method} ${c.path}`), ['PATCH /api/v1/nodes/own', 'PATCH /api/v1/nodes/own/status']);
    assert.equal(waiting.at(-1), undefined);
    // Again with the same attrs: nothing differs, nothing is sent.
    h.api.admin.clearCalls();
    await store.acquire(config, { attrs }, AbortSignal.timeout(10_000));
    assert.equal(h.api.admin.calls().filter((c) => c.method === 'PATCH').length, 0);
    // host-gw writes backend-data null, as flannel does.
    await store.acquire(config, { attrs: { publicIp: '192.168.50.99', backendType: 'host-gw' } }, AbortSignal.timeout(10_000));
    assert.equal((await getNode('own')).metadata.annotations?.[keys.backendData], 'null');
  });

  test('a podCIDR outside Network is a configuration error naming both', async () => {
    await create(flannelNode('outside', '10.99.0.0/24', '192.168.50.98'));
    const store = newStore({ nodeName: 'outside' });
    await assert.rejects(store.acquire(config, { attrs: { publicIp: '192.168.50.98', backendType: 'vxlan' } }, AbortSignal.timeout(10_000)),
      /node outside spec\.podCIDRs: lies outside the network config's Network 10\.244\.0\.0\/16.*got "10\.99\.0\.0\/24"/);
  });

  test('NetworkUnavailable=False with tartan\'s reason, merged by type with the other conditions', async () => {
    await create(flannelNode('cond', '10.244.88.0/24', '192.168.50.88'));
    const store = newStore({ nodeName: 'cond' });
    await store.list(AbortSignal.timeout(10_000));
    await store.markNetworkAvailable(AbortSignal.timeout(10_000));
    const conds = (await getNode('cond')).status?.conditions ?? [];
    assert.deepEqual(conds.map((c) => [c.type, c.status, c.reason]), [['Ready', 'True', undefined], ['NetworkUnavailable', 'False', NETWORK_UNAVAILABLE_REASON]]);
  });

  test('route status: one patch per changed node, read back by key; heartbeat on the controller\'s node', async () => {
    await create(flannelNode('rs1', '10.244.31.0/24', '192.168.50.31'));
    await create(flannelNode('rs2', '10.244.32.0/24', '192.168.50.32'));
    const controller = newStore({ routeDomain: 'aws:vpc-1', heartbeatNode: 'rs1' });
    const agent = newStore({ routeDomain: 'aws:vpc-1' });
    const snap = await agent.snapshotRouteStatus(AbortSignal.timeout(10_000));
    const seen = new Map<string, string | undefined>();
    let beats = 0;
    const ac = new AbortController();
    const watching = agent.watchRouteStatus({
      fromRevision: snap.revision + 1, signal: ac.signal,
      onChange: (k, s) => seen.set(k, s?.state), onHeartbeat: () => beats++, onResync: () => assert.fail('no resync expected'),
    });
    await controller.list(AbortSignal.timeout(10_000));
    h.api.admin.clearCalls();
    const programmed: PublishedRouteStatus = { state: 'programmed', tables: { 'rtb-1': 'programmed' }, provider: 'aws', updated: new Date().toISOString() };
    await controller.writeRouteStatuses(new Map<string, PublishedRouteStatus>([['10.244.31.0-24', programmed], ['10.244.32.0-24', { ...programmed, state: 'pending', tables: { 'rtb-1': 'pending' } }]]), [], AbortSignal.timeout(10_000));
    assert.equal(h.api.admin.calls().filter((c) => c.method === 'PATCH').length, 2);
    await waitFor('statuses seen by the agent', () => seen.get('10.244.31.0-24') === 'programmed' && seen.get('10.244.32.0-24') === 'pending', 5000);
    // Same status, newer `updated`: no patch.
    await waitFor('controller cache', () => controller.cache.get('rs1')?.annotations[ROUTE_STATUS_ANNOTATION] !== undefined, 5000);
    h.api.admin.clearCalls();
    await controller.writeRouteStatuses(new Map([['10.244.31.0-24', { ...programmed, updated: new Date(Date.now() + 1000).toISOString() }]]), [], AbortSignal.timeout(10_000));
    assert.equal(h.api.admin.calls().filter((c) => c.method === 'PATCH').length, 0);
    await controller.writeHeartbeat({ observed: new Date().toISOString(), resyncSeconds: 60, provider: 'aws' }, AbortSignal.timeout(10_000));
    await waitFor('heartbeat seen', () => beats === 1, 5000);
    assert.ok((await getNode('rs1')).metadata.annotations?.[heartbeatAnnotation('aws:vpc-1')]);
    const read = await agent.listRouteStatus(AbortSignal.timeout(10_000));
    assert.equal(read.heartbeat?.provider, 'aws');
    // An agent of another route domain does not take this heartbeat for its own.
    const other = newStore({ routeDomain: 'gce:projects/p/global/networks/n' });
    assert.equal((await other.listRouteStatus(AbortSignal.timeout(10_000))).heartbeat, undefined);
    await controller.writeRouteStatuses(new Map(), ['10.244.32.0-24'], AbortSignal.timeout(10_000));
    await waitFor('status removed', () => seen.has('10.244.32.0-24') && seen.get('10.244.32.0-24') === undefined, 5000);
    ac.abort();
    await watching;
  });
});
