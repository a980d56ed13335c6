// Read-only by construction: the audit holds a RouteTableReader (no write method
// type-checks) and at run time a view on which no capability guard finds one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_BUDGET } from '../controller/planner.ts';
import type { LeaseSnapshot } from '../lease/store.ts';
import { testLease } from '../lease/testing.ts';
import { FakeCloud } from '../../providers/fake/provider.ts';
import { type RouteTableReader, canBatch, canPrepareHosts, canReplace } from '../../providers/route-table.ts';
import { audit } from './audit.ts';
import { deadline } from './deadline.ts';
import { readOnly } from './read-only.ts';
import { parseNetworkConfig } from '../config/network.ts';

test('the view has the reader members only; capability guards find nothing to write with', () => {
  const cloud = new FakeCloud({ clusterNetworks: ['10.244.0.0/16'] });
  const view: RouteTableReader = readOnly(cloud);
  // @ts-expect-error the audit's provider type has no createRoute
  assert.equal(view.createRoute, undefined);
  // @ts-expect-error … and no deleteRoute
  assert.equal(view.deleteRoute, undefined);
  assert.deepEqual(Object.keys(view).sort(), ['calls', 'capacity', 'listRoutes', 'marksRoutes', 'provider', 'resolveHosts', 'tables']);
  assert.equal(canReplace(view) || canBatch(view) || canPrepareHosts(view), false);
  assert.ok(Object.isFrozen(view));
});

test('an audit with drift to repair (missing, stale) makes no mutating call, even with --plan', async () => {
  const cloud = new FakeCloud({ clusterNetworks: ['10.244.0.0/16'], tables: ['rtb-a'] });
  cloud.addInstance('192.168.0.1', { kind: 'instance', id: 'i-1' });
  cloud.seedRoute('rtb-a', '10.244.9.0/24', { kind: 'instance', id: 'i-1' }, true);
  const snapshot: LeaseSnapshot = {
    leases: [testLease({ subnet: '10.244.1.0/24', publicIp: '192.168.0.1', backendData: { VNI: 1, VtepMAC: '0e:00:00:00:00:01', RouteDomain: 'aws:vpc-1' } })],
    skipped: [], revision: 1,
  };
  const report = await audit({
    leases: { list: async () => snapshot, watch: async () => {}, listRouteStatus: async () => ({ statuses: new Map(), unreadable: new Map() }) },
    config: parseNetworkConfig('{"Network":"10.244.0.0/16","Backend":{"Type":"aws-vpc"}}'),
    store: { store: 'memory', prefix: '/p' },
    cloud,
    plan: { budget: DEFAULT_BUDGET },
    deadline: deadline(5000, new AbortController().signal),
  });
  assert.deepEqual(report.plan?.actions.map((a) => a.op), ['create', 'delete']);
  assert.deepEqual(cloud.mutations(), []);
  assert.deepEqual(cloud.log.map((c) => c.operation).sort(), ['capacity', 'listRoutes', 'resolveHosts', 'tables']);
});
