import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCidr } from '../../src/net/cidr.ts';
import type { ApiRouteEntry } from './api.ts';
import { classify, markerFor, stateOf } from './ownership.ts';

const marker = markerFor('prod');
const networks = [parseCidr('10.244.0.0/16')];
const base: ApiRouteEntry = {
  id: 'rte-1', tableId: 'vtb-1', destination: '10.244.1.0/24', name: 'tartan-prod', description: 'tartan:prod',
  type: 'Custom', status: 'Available', nextHops: [{ type: 'Instance', id: 'i-1' }],
};

describe('alicloud ownership', () => {
  const cases: { description: string; entry: Partial<ApiRouteEntry>; kind: 'owned' | 'foreign' | 'other' }[] = [
    { description: 'marked, inside, Custom, instance: owned', entry: {}, kind: 'owned' },
    { description: 'another cluster\'s marker: foreign', entry: { name: 'tartan-dev', description: 'tartan:dev' }, kind: 'foreign' },
    { description: 'name marked but description not: foreign', entry: { description: 'hand-made' }, kind: 'foreign' },
    { description: 'no marker: foreign', entry: { name: '', description: '' }, kind: 'foreign' },
    { description: 'marked but outside the Network: other', entry: { destination: '10.9.0.0/24' }, kind: 'other' },
    { description: 'marked, wider than the Network: foreign (overlaps, not inside)', entry: { destination: '10.0.0.0/8' }, kind: 'foreign' },
    { description: 'marked, to a VPN gateway: foreign', entry: { nextHops: [{ type: 'VpnGateway', id: 'vpn-1' }] }, kind: 'foreign' },
    { description: 'marked, ECMP: foreign', entry: { nextHops: [{ type: 'Instance', id: 'i-1' }, { type: 'Instance', id: 'i-2' }] }, kind: 'foreign' },
    { description: 'System entry overlapping the Network: foreign', entry: { type: 'System', nextHops: [{ type: 'local', id: '' }] }, kind: 'foreign' },
    { description: 'a prefix list destination: other', entry: { destination: 'pl-abc123' }, kind: 'other' },
    { description: 'a bare IP means /32: owned', entry: { destination: '10.244.1.7' }, kind: 'owned' },
  ];
  for (const c of cases) {
    test(c.description, () => {
      const got = classify({ ...base, ...c.entry }, marker, networks);
      assert.equal(got.kind, c.kind);
      assert.equal(got.entry.owned, c.kind === 'owned');
    });
  }

  test('an owned entry reads as a RouteEntry with its id and instance next hop', () => {
    assert.deepEqual(classify({ ...base, destination: '10.244.1.7' }, marker, networks).entry, {
      table: 'vtb-1', destination: '10.244.1.7/32', nextHop: { kind: 'instance', id: 'i-1' }, state: 'active', owned: true, id: 'rte-1',
    });
  });

  const states: { description: string; entry: Partial<ApiRouteEntry>; state: string }[] = [
    { description: 'Available', entry: {}, state: 'active' },
    { description: 'Pending', entry: { status: 'Pending' }, state: 'pending' },
    { description: 'Modifying', entry: { status: 'Modifying' }, state: 'pending' },
    { description: 'Deleting', entry: { status: 'Deleting' }, state: 'pending' },
    { description: 'a disabled next hop (released instance)', entry: { nextHops: [{ type: 'Instance', id: 'i-1', enabled: 0 }] }, state: 'blackhole' },
  ];
  for (const c of states) {
    test(`state: ${c.description} → ${c.state}`, () => assert.equal(stateOf({ ...base, ...c.entry }), c.state));
  }
});
