import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCidr } from '../../src/net/cidr.ts';
import { type ClassifyContext, classifyRoute, nextHopFromUrl, parseInstanceId } from './classify.ts';
import { routeNaming } from './names.ts';
import type { GceRoute } from './wire.ts';

const naming = routeNaming('prod');
const ctx: ClassifyContext = {
  naming, project: 'proj-1', table: 'net',
  clusterNetworks: [parseCidr('10.244.0.0/16'), parseCidr('fd00:10:244::/56')],
};
const NET = 'https://www.googleapis.com/compute/v1/projects/proj-1/global/networks/net';
const INST = 'https://www.googleapis.com/compute/v1/projects/proj-1/zones/us-central1-a/instances/node-1';
const ours = (dest: string, extra: Partial<GceRoute> = {}): GceRoute => ({
  name: naming.nameFor(dest), description: naming.marker, network: NET, destRange: dest, nextHopInstance: INST, warnings: [], ...extra,
});

const cases: { description: string; route: GceRoute; kind: 'owned' | 'foreign' | 'other'; state?: string }[] = [
  { description: 'all marks: owned', route: ours('10.244.3.0/24'), kind: 'owned', state: 'active' },
  { description: 'IPv6 with all marks: owned', route: ours('fd00:10:244:3::/64'), kind: 'owned' },
  { description: 'deleted next hop: owned, blackhole', route: ours('10.244.4.0/24', { warnings: [{ code: 'NEXT_HOP_INSTANCE_NOT_FOUND', message: 'gone' }] }), kind: 'owned', state: 'blackhole' },
  { description: 'other warnings keep it active', route: ours('10.244.4.0/24', { warnings: [{ code: 'NEXT_HOP_NOT_RUNNING', message: 'stopped' }] }), kind: 'owned', state: 'active' },
  { description: 'no marker: foreign', route: ours('10.244.5.0/24', { description: 'hand made' }), kind: 'foreign' },
  { description: "another cluster's marker (prefix clash a / a-b): foreign", route: ours('10.244.5.0/24', { description: 'tartan:prod-b' }), kind: 'foreign' },
  { description: 'marker but foreign name: foreign', route: ours('10.244.6.0/24', { name: 'manual-route' }), kind: 'foreign' },
  { description: 'next hop IP instead of instance: foreign', route: ours('10.244.7.0/24', { nextHopInstance: undefined, nextHopIp: '10.128.0.9' }), kind: 'foreign' },
  { description: 'outside the cluster Network: ignored', route: ours('10.245.0.0/24'), kind: 'other' },
  { description: 'default route contains the Network: ignored', route: { name: 'default-route-1', network: NET, destRange: '0.0.0.0/0', nextHopGateway: 'gw', warnings: [] }, kind: 'other' },
  { description: 'a /8 aggregate: ignored', route: { name: 'vpn', network: NET, destRange: '10.0.0.0/8', nextHopIp: '10.1.1.1', warnings: [] }, kind: 'other' },
  { description: 'the whole cluster Network by hand: foreign', route: { name: 'all-pods', network: NET, destRange: '10.244.0.0/16', nextHopIp: '10.1.1.1', warnings: [] }, kind: 'foreign' },
  { description: 'garbage destRange: ignored', route: ours('10.244.8.0/24', { destRange: 'nonsense' }), kind: 'other' },
];

for (const c of cases) {
  test(`classify: ${c.description}`, () => {
    const got = classifyRoute(c.route, ctx);
    assert.equal(got.kind, c.kind);
    if (got.kind === 'other') return;
    assert.equal(got.entry.owned, c.kind === 'owned');
    assert.equal(got.entry.id, c.route.name);
    assert.equal(got.entry.table, 'net');
    if (c.state) assert.equal(got.entry.state, c.state);
  });
}

test('owned entries carry the next hop as zones/<z>/instances/<n>', () => {
  const got = classifyRoute(ours('10.244.3.0/24'), ctx);
  assert.equal(got.kind, 'owned');
  assert.deepEqual(got.kind === 'owned' && got.entry.nextHop, { kind: 'instance', id: 'zones/us-central1-a/instances/node-1' });
});

test('next hop URLs', () => {
  assert.deepEqual(nextHopFromUrl(INST, 'proj-1'), { kind: 'instance', id: 'zones/us-central1-a/instances/node-1' });
  assert.deepEqual(nextHopFromUrl('zones/z/instances/n', 'proj-1'), { kind: 'instance', id: 'zones/z/instances/n' });
  assert.deepEqual(nextHopFromUrl('https://compute.googleapis.com/compute/v1/projects/other/zones/z/instances/n', 'proj-1'),
    { kind: 'instance', id: 'projects/other/zones/z/instances/n' });
  assert.equal(nextHopFromUrl('https://www.googleapis.com/compute/v1/projects/p/global/networks/n', 'p'), undefined);
  assert.deepEqual(parseInstanceId('zones/us-east1-b/instances/node-7'), { project: undefined, zone: 'us-east1-b', name: 'node-7' });
  assert.equal(parseInstanceId('i-0abc'), undefined);
});
