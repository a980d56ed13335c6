// Route status (published by the controller) vs observed, table-driven.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeDrift } from '../controller/drift.ts';
import type { JsonValue, Lease } from '../lease/lease.ts';
import { testLease } from '../lease/testing.ts';
import type { RouteEntry } from '../../providers/route-table.ts';
import { HEARTBEAT_KEY, decodeRouteStatuses, encodeHeartbeat } from '../lease/route-status.ts';
import { statusDisagreements } from './status.ts';

const lease = (n: number): Lease => testLease({ subnet: `10.244.${n}.0/24`, publicIp: `192.168.0.${n}`, backendData: { RouteDomain: 'aws:vpc-1' }, revision: n });
const owned = (n: number, id = `i-${n}`): RouteEntry => ({ table: 'rtb-1', destination: `10.244.${n}.0/24`, nextHop: { kind: 'instance', id }, state: 'active', owned: true });
const status = (state: string, tables: Record<string, string>): JsonValue => ({ state, tables, reason: null, provider: 'aws', updated: '2026-01-01T00:00:00Z' });

/** Leases 1 and 2 in the route domain, lease 3 outside it; one table rtb-1. */
function drift(routes: RouteEntry[], quota = 50) {
  const leases = [lease(1), lease(2), lease(3)];
  return computeDrift({
    leases,
    nextHops: new Map([['192.168.0.1', { kind: 'instance', id: 'i-1' }], ['192.168.0.2', { kind: 'instance', id: 'i-2' }]]),
    tables: [{ table: 'rtb-1', listing: { owned: routes, foreign: [] }, capacity: { quota, used: routes.length } }],
  });
}

const cases: {
  description: string;
  published: Record<string, JsonValue>;
  routes?: RouteEntry[];
  quota?: number;
  cloud?: boolean;
  unreadable?: string[];
  want: [lease: string, kind: string, table: string | null, published: string | null, observed: string | null][];
  message?: RegExp;
}[] = [
  {
    description: 'agreement: both programmed',
    published: { '10.244.1.0-24': status('programmed', { 'rtb-1': 'programmed' }), '10.244.2.0-24': status('programmed', { 'rtb-1': 'programmed' }) },
    routes: [owned(1), owned(2)],
    want: [],
  },
  {
    description: 'status says programmed but the route is missing',
    published: { '10.244.1.0-24': status('programmed', { 'rtb-1': 'programmed' }), '10.244.2.0-24': status('programmed', { 'rtb-1': 'programmed' }) },
    routes: [owned(1)],
    want: [['10.244.2.0-24', 'mismatch', 'rtb-1', 'programmed', 'pending']],
    message: /^rtb-1: status says programmed, but the route is missing$/,
  },
  {
    description: 'status says overflow but the route is in place',
    published: { '10.244.1.0-24': status('programmed', { 'rtb-1': 'programmed' }), '10.244.2.0-24': status('overflow', { 'rtb-1': 'overflow' }) },
    routes: [owned(1), owned(2)],
    want: [['10.244.2.0-24', 'mismatch', 'rtb-1', 'overflow', 'programmed']],
    message: /status says overflow, but the route is in place/,
  },
  {
    description: 'a failed attempt (error) and pending are the same thing: not routed yet',
    published: { '10.244.1.0-24': status('programmed', { 'rtb-1': 'programmed' }), '10.244.2.0-24': status('error', { 'rtb-1': 'error' }) },
    routes: [owned(1)],
    want: [],
  },
  {
    description: 'status says pending but the table is full (overflow)',
    published: { '10.244.1.0-24': status('programmed', { 'rtb-1': 'programmed' }), '10.244.2.0-24': status('pending', { 'rtb-1': 'pending' }) },
    routes: [owned(1)], quota: 1,
    want: [['10.244.2.0-24', 'mismatch', 'rtb-1', 'pending', 'overflow']],
  },
  {
    description: 'no status published for a lease in the domain',
    published: { '10.244.1.0-24': status('programmed', { 'rtb-1': 'programmed' }) },
    routes: [owned(1), owned(2)],
    want: [['10.244.2.0-24', 'missing', null, null, 'programmed']],
  },
  {
    description: 'status for a lease that no longer exists (orphan)',
    published: { '10.244.1.0-24': status('programmed', { 'rtb-1': 'programmed' }), '10.244.2.0-24': status('programmed', { 'rtb-1': 'programmed' }), '10.244.9.0-24': status('programmed', { 'rtb-1': 'programmed' }) },
    routes: [owned(1), owned(2)],
    want: [['10.244.9.0-24', 'orphan', null, 'programmed', null]],
  },
  {
    description: 'the status of an unreadable lease is kept by the controller (fail static): no orphan',
    published: { '10.244.1.0-24': status('programmed', { 'rtb-1': 'programmed' }), '10.244.2.0-24': status('programmed', { 'rtb-1': 'programmed' }), '10.244.9.0-24': status('programmed', { 'rtb-1': 'programmed' }) },
    routes: [owned(1), owned(2)], unreadable: ['10.244.9.0-24'],
    want: [],
  },
  {
    description: 'status for a host the cloud cannot route',
    published: { '10.244.1.0-24': status('programmed', { 'rtb-1': 'programmed' }), '10.244.2.0-24': status('programmed', { 'rtb-1': 'programmed' }), '10.244.3.0-24': status('programmed', { 'rtb-1': 'programmed' }) },
    routes: [owned(1), owned(2)],
    want: [['10.244.3.0-24', 'mismatch', null, 'programmed', null]],
    message: /cannot route this host/,
  },
  {
    description: 'a value the controller never writes',
    published: { '10.244.1.0-24': null, '10.244.2.0-24': { state: 'great', tables: {} } },
    routes: [owned(1), owned(2)],
    want: [['10.244.1.0-24', 'unreadable', null, null, null], ['10.244.2.0-24', 'unreadable', null, null, null]],
  },
  {
    description: 'a table the status names that is no longer managed',
    published: { '10.244.1.0-24': status('programmed', { 'rtb-1': 'programmed', 'rtb-old': 'programmed' }), '10.244.2.0-24': status('programmed', { 'rtb-1': 'programmed' }) },
    routes: [owned(1), owned(2)],
    want: [['10.244.1.0-24', 'mismatch', 'rtb-old', 'programmed', null]],
  },
  {
    description: 'cloud not audited: only orphans and unreadable values can be judged',
    published: { '10.244.1.0-24': status('programmed', { 'rtb-1': 'programmed' }), '10.244.9.0-24': status('pending', {}) },
    cloud: false,
    want: [['10.244.9.0-24', 'orphan', null, 'pending', null]],
  },
];

for (const c of cases) {
  test(c.description, () => {
    const got = statusDisagreements({
      published: decodeRouteStatuses(Object.entries(c.published).map(([k, v]) => [k, JSON.stringify(v)])),
      leaseKeys: new Set([lease(1), lease(2), lease(3)].map((l) => l.key)),
      unreadableKeys: new Set(c.unreadable ?? []),
      drift: c.cloud === false ? undefined : drift(c.routes ?? [], c.quota),
    });
    assert.deepEqual(got.map((d) => [d.lease, d.kind, d.table, d.published, d.observed]), c.want);
    if (c.message) assert.match(got[0]!.message, c.message);
  });
}

test('statuses that say programmed while the controller\'s heartbeat is stale (or missing): one stale row', () => {
  const programmed = JSON.stringify(status('programmed', { 'rtb-1': 'programmed' }));
  const now = Date.parse('2026-01-01T00:10:00Z');
  const read = (observed: string | undefined) => decodeRouteStatuses([
    ['10.244.1.0-24', programmed],
    ...(observed ? [[HEARTBEAT_KEY, encodeHeartbeat({ observed, resyncSeconds: 60 })] as [string, string]] : []),
  ]);
  const kinds = (observed: string | undefined) => statusDisagreements({
    now, published: read(observed), leaseKeys: new Set(['10.244.1.0-24']), unreadableKeys: new Set(),
  }).map((d) => [d.lease, d.kind]);
  assert.deepEqual(kinds('2026-01-01T00:09:00Z'), [], 'observed 60 s ago: fresh (bound 125 s)');
  assert.deepEqual(kinds('2026-01-01T00:07:00Z'), [[HEARTBEAT_KEY, 'stale']], 'observed 180 s ago');
  assert.deepEqual(kinds(undefined), [[HEARTBEAT_KEY, 'stale']], 'no heartbeat at all');
});
