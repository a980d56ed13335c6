import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Lease } from '../lease/lease.ts';
import { testLease } from '../lease/testing.ts';
import type { NextHop, RouteEntry } from '../../providers/route-table.ts';
import { computeDrift, type TableObservation } from './drift.ts';
import { DEFAULT_BUDGET, planRoutes, type RouteAction } from './planner.ts';

const lease = (n: number, created = n): Lease => testLease({
  subnet: `10.244.${n}.0/24`, publicIp: `192.168.0.${n}`, backendData: { RouteDomain: 'aws:vpc-1' }, revision: created, createdRevision: created,
});
const hop = (n: number): NextHop => ({ kind: 'instance', id: `i-${n}` });
const eni = (n: number): NextHop => ({ kind: 'eni', id: `eni-${n}` });
const route = (n: number, over: Partial<RouteEntry> = {}): RouteEntry => ({
  table: 'rtb-1', destination: `10.244.${n}.0/24`, nextHop: hop(n), state: 'active', owned: true, ...over,
});
const table = (owned: RouteEntry[], opts: { foreign?: RouteEntry[]; quota?: number; used?: number } = {}): TableObservation => ({
  table: 'rtb-1',
  listing: { owned, foreign: opts.foreign ?? [] },
  capacity: { quota: opts.quota ?? 50, used: opts.used ?? owned.length + (opts.foreign?.length ?? 0) + 1 },
});
const hops = (...ns: number[]) => new Map(ns.map((n) => [`192.168.0.${n}`, hop(n)]));
const describeAction = (a: RouteAction): string =>
  a.op === 'delete' ? `delete ${a.route.destination}` : `${a.op} ${a.destination} → ${a.nextHop.id}`;

interface Case {
  description: string;
  leases: Lease[];
  nextHops: Map<string, NextHop>;
  tables: TableObservation[];
  trusted?: boolean;
  force?: boolean;
  want: string[];
  states?: Record<string, string>;
  held?: number;
  /** The controller's own route domain (default: none given, every lease with a route domain other than none). */
  routeDomain?: string;
}

const AWS = 'aws:vpc-1';
const GCE = 'gce:projects/p/global/networks/n';
const inDomain = (l: Lease, domain: string): Lease => ({ ...l, attrs: { ...l.attrs, backendData: { RouteDomain: domain } } });

const cases: Case[] = [
  { description: 'new lease in the domain → create', leases: [lease(1)], nextHops: hops(1), tables: [table([])], want: ['create 10.244.1.0/24 → i-1'], states: { '10.244.1.0-24': 'pending' } },
  { description: 'route already right → nothing, programmed', leases: [lease(1)], nextHops: hops(1), tables: [table([route(1)])], want: [], states: { '10.244.1.0-24': 'programmed' } },
  { description: 'host outside the domain (on-prem) → no route, no status', leases: [lease(1)], nextHops: hops(), tables: [table([])], want: [], states: {} },
  { description: 'flannel lease (no RouteDomain) on an instance → no route spent on it', leases: [{ ...lease(1), attrs: { publicIp: '192.168.0.1', backendType: 'vxlan', backendData: { VNI: 1, VtepMAC: '02:00:00:00:00:01' } } }], nextHops: hops(1), tables: [table([])], want: [], states: {} },
  { description: 'tartan host that says RouteDomain none → no route', leases: [{ ...lease(1), attrs: { publicIp: '192.168.0.1', backendType: 'vxlan', backendData: { RouteDomain: 'none' } } }], nextHops: hops(1), tables: [table([])], want: [], states: {} },
  { description: 'a flannel lease whose route we made earlier → that route is stale', leases: [{ ...lease(1), attrs: { publicIp: '192.168.0.1', backendType: 'vxlan' } }], nextHops: hops(1), tables: [table([route(1)])], want: ['delete 10.244.1.0/24'] },
  { description: 'host moved to another instance → replace', leases: [lease(1)], nextHops: new Map([['192.168.0.1', hop(9)]]), tables: [table([route(1)])], want: ['replace 10.244.1.0/24 → i-9'] },
  { description: 'route shown by instance, host wanted by the interface it goes to (AWS alias) → nothing, programmed', leases: [lease(1)], nextHops: new Map([['192.168.0.1', eni(1)]]), tables: [table([route(1, { nextHopAliases: [eni(1)] })])], want: [], states: { '10.244.1.0-24': 'programmed' } },
  { description: "host wanted by another of the instance's interfaces → replace", leases: [lease(1)], nextHops: new Map([['192.168.0.1', eni(2)]]), tables: [table([route(1, { nextHopAliases: [eni(1)] })])], want: ['replace 10.244.1.0/24 → eni-2'] },
  { description: 'blackhole whose host still resolves to the dead interface (alias) → nothing, pending', leases: [lease(1)], nextHops: new Map([['192.168.0.1', eni(1)]]), tables: [table([route(1, { state: 'blackhole', nextHopAliases: [eni(1)] })])], want: [], states: { '10.244.1.0-24': 'pending' } },
  { description: 'blackhole (instance terminated, host re-resolved to its new instance) → replace', leases: [lease(1)], nextHops: new Map([['192.168.0.1', hop(9)]]), tables: [table([route(1, { state: 'blackhole' })])], want: ['replace 10.244.1.0/24 → i-9'], states: { '10.244.1.0-24': 'pending' } },
  { description: 'blackhole whose host still resolves to the dead instance → nothing, pending (never programmed)', leases: [lease(1)], nextHops: hops(1), tables: [table([route(1, { state: 'blackhole' })])], want: [], states: { '10.244.1.0-24': 'pending' } },
  { description: 'lease gone → its route deleted', leases: [], nextHops: hops(), tables: [table([route(1)])], want: ['delete 10.244.1.0/24'] },
  { description: 'fail static: untrusted lease view → no deletion, held', leases: [], nextHops: hops(), tables: [table([route(1)])], trusted: false, want: [], held: 1 },
  { description: 'foreign route on the subnet → conflict, untouched', leases: [lease(1)], nextHops: hops(1), tables: [table([], { foreign: [route(1, { owned: false, nextHop: hop(7) })] })], want: [], states: { '10.244.1.0-24': 'conflict' } },
  {
    description: 'more specific foreign route inside the subnet, before tartan\'s → tartan still creates its own, the lease is conflict',
    leases: [lease(1)], nextHops: hops(1), tables: [table([], { foreign: [route(1, { destination: '10.244.1.128/25', owned: false })] })],
    want: ['create 10.244.1.0/24 → i-1'], states: { '10.244.1.0-24': 'conflict' },
  },
  {
    description: 'the same foreign /25 appearing after tartan\'s /24 → the same: /24 kept, the lease is conflict',
    leases: [lease(1)], nextHops: hops(1), tables: [table([route(1)], { foreign: [route(1, { destination: '10.244.1.128/25', owned: false })] })],
    want: [], states: { '10.244.1.0-24': 'conflict' },
  },
  {
    description: 'a wider foreign route where the table is full → it takes the subnet: conflict, not overflow',
    leases: [lease(1)], nextHops: hops(1), tables: [table([], { quota: 1, used: 1, foreign: [route(1, { destination: '10.244.0.0/16', owned: false })] })],
    want: [], states: { '10.244.1.0-24': 'conflict' },
  },
  { description: 'wider foreign route (whole Network) → no conflict', leases: [lease(1)], nextHops: hops(1), tables: [table([], { foreign: [route(1, { destination: '10.244.0.0/16', owned: false })] })], want: ['create 10.244.1.0/24 → i-1'] },
  { description: 'a foreign route is never deleted even with no lease', leases: [], nextHops: hops(), tables: [table([], { foreign: [route(1, { owned: false })] })], want: [] },
  {
    description: 'table full: programmed keep their place, the newest lease overflows',
    leases: [lease(1, 30), lease(2, 10), lease(3, 20)], nextHops: hops(1, 2, 3), tables: [table([route(1)], { quota: 3, used: 2 })],
    want: ['create 10.244.2.0/24 → i-2'], states: { '10.244.1.0-24': 'programmed', '10.244.2.0-24': 'pending', '10.244.3.0-24': 'overflow' },
  },
  // One controller per cloud network: each routes only the leases of its own route domain.
  { description: 'AWS controller, lease in its VPC → create', routeDomain: AWS, leases: [lease(1)], nextHops: hops(1), tables: [table([])], want: ['create 10.244.1.0/24 → i-1'], states: { '10.244.1.0-24': 'pending' } },
  { description: 'AWS controller, a GCE host\'s lease (its IP resolving by chance) → no route, no status', routeDomain: AWS, leases: [inDomain(lease(1), GCE)], nextHops: hops(1), tables: [table([])], want: [], states: {} },
  { description: 'AWS controller, another VPC\'s lease → no route, no status', routeDomain: AWS, leases: [inDomain(lease(1), 'aws:vpc-2')], nextHops: hops(1), tables: [table([])], want: [], states: {} },
  { description: 'AWS controller, a lease that says none → no route', routeDomain: AWS, leases: [inDomain(lease(1), 'none')], nextHops: hops(1), tables: [table([])], want: [], states: {} },
  { description: 'AWS controller, a flannel lease (no RouteDomain) → no route', routeDomain: AWS, leases: [{ ...lease(1), attrs: { publicIp: '192.168.0.1', backendType: 'vxlan' } }], nextHops: hops(1), tables: [table([])], want: [], states: {} },
  { description: 'AWS controller, its route for a host now in the GCE network → stale, deleted', routeDomain: AWS, leases: [inDomain(lease(1), GCE)], nextHops: hops(1), tables: [table([route(1)])], want: ['delete 10.244.1.0/24'], states: {} },
  {
    description: 'GCE controller among AWS, GCE and on-prem leases → only the GCE one',
    routeDomain: GCE, leases: [lease(1), inDomain(lease(2), GCE), inDomain(lease(3), 'none')], nextHops: hops(1, 2, 3), tables: [table([])],
    want: ['create 10.244.2.0/24 → i-2'], states: { '10.244.2.0-24': 'pending' },
  },
  { description: 'no route domain given → any lease with a route domain other than none (GCE lease routed)', leases: [inDomain(lease(1), GCE)], nextHops: hops(1), tables: [table([])], want: ['create 10.244.1.0/24 → i-1'] },
];

describe('computeDrift + planRoutes', () => {
  for (const c of cases) {
    test(c.description, () => {
      const drift = computeDrift({ leases: c.leases, nextHops: c.nextHops, tables: c.tables, routeDomain: c.routeDomain });
      const plan = planRoutes(drift, { trusted: c.trusted ?? true, budget: { ...DEFAULT_BUDGET, force: c.force ?? false } });
      assert.deepEqual(plan.actions.map(describeAction), c.want);
      if (c.states) assert.deepEqual(Object.fromEntries([...plan.statuses].map(([k, s]) => [k, s.state])), c.states);
      assert.equal(plan.held.deletions, c.held ?? 0);
    });
  }

  test('deletion budget: at most max(5, 10 %) per pass unless forced', () => {
    const owned = Array.from({ length: 100 }, (_, i) => route(i + 1));
    const leases = Array.from({ length: 30 }, (_, i) => lease(i + 1));
    const drift = computeDrift({ leases, nextHops: hops(...leases.map((_, i) => i + 1)), tables: [table(owned, { quota: 200 })] });
    const plan = planRoutes(drift, { trusted: true, budget: DEFAULT_BUDGET });
    assert.equal(plan.actions.filter((a) => a.op === 'delete').length, 10);
    assert.equal(plan.held.deletions, 60);
    const forced = planRoutes(drift, { trusted: true, budget: { ...DEFAULT_BUDGET, force: true } });
    assert.equal(forced.actions.filter((a) => a.op === 'delete').length, 70);
    const small = computeDrift({ leases: [], nextHops: hops(), tables: [table(owned.slice(0, 8))] });
    assert.equal(planRoutes(small, { trusted: true, budget: DEFAULT_BUDGET }).actions.length, 5);
  });

  test('overflow is stable: the same leases overflow on every pass, whatever the input order', () => {
    const leases = Array.from({ length: 60 }, (_, i) => lease(i + 1));
    const shuffled = [...leases].reverse();
    const first = computeDrift({ leases, nextHops: hops(...leases.map((_, i) => i + 1)), tables: [table([], { quota: 50, used: 0 })] });
    const again = computeDrift({ leases: shuffled, nextHops: hops(...leases.map((_, i) => i + 1)), tables: [table([], { quota: 50, used: 0 })] });
    const overflowed = (d: typeof first) => d.tables[0]!.items.filter((i) => i.kind === 'overflow').map((i) => i.leaseKey).sort();
    assert.deepEqual(overflowed(first), overflowed(again));
    assert.equal(overflowed(first).length, 10);
    assert.ok(overflowed(first).every((k) => Number(k!.split('.')[2]) > 50), 'the newest ten overflow');
  });

  test('several tables: a lease is overflow if any table is full', () => {
    const t2: TableObservation = { ...table([], { quota: 1, used: 1 }), table: 'rtb-2' };
    const drift = computeDrift({ leases: [lease(1)], nextHops: hops(1), tables: [table([route(1)]), t2] });
    const status = planRoutes(drift, { trusted: true, budget: DEFAULT_BUDGET }).statuses.get('10.244.1.0-24');
    assert.deepEqual(status, { state: 'overflow', tables: { 'rtb-1': 'programmed', 'rtb-2': 'overflow' }, reason: 'route table full: rtb-2' });
  });
});
