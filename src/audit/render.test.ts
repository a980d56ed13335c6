// The renderers, pure and table-driven: reports are built with the real drift
// model from synthetic leases and tables, then rendered as text and JSON.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { computeDrift } from '../controller/drift.ts';
import type { ObservedTable } from '../controller/observe.ts';
import { planRoutes, DEFAULT_BUDGET } from '../controller/planner.ts';
import type { JsonValue, Lease } from '../lease/lease.ts';
import { testLease } from '../lease/testing.ts';
import type { NextHop, RouteEntry } from '../../providers/route-table.ts';
import { buildReport } from './build.ts';
import { errorReport, renderJson } from './render-json.ts';
import { renderTable } from './render-table.ts';
import type { AuditReport, KernelReport } from './report.ts';
import { summaryLine } from './summary.ts';
import { HEARTBEAT_KEY, decodeRouteStatuses, encodeHeartbeat } from '../lease/route-status.ts';

/** Lease n: subnet 10.244.n.0/24 (carrying past 255 into 10.245.…), host 192.168.0.n. */
const net = (n: number): string => `10.${244 + (n >> 8)}.${n & 255}.0`;
const ip = (n: number): string => `192.168.${n >> 8}.${n & 255}`;
function lease(n: number): Lease {
  return testLease({ subnet: `${net(n)}/24`, publicIp: ip(n), backendData: { RouteDomain: 'aws:vpc-1' }, revision: n, createdRevision: n });
}
const hop = (id: string): NextHop => ({ kind: 'instance', id });
const route = (table: string, n: number, id: string, extra: Partial<RouteEntry> = {}): RouteEntry =>
  ({ table, destination: `${net(n)}/24`, nextHop: hop(id), state: 'active', owned: true, ...extra });

interface Spec {
  readonly leases: number;
  /** Per table: the routes in it (owned unless marked). */
  readonly tables?: Record<string, { routes: RouteEntry[]; foreign?: RouteEntry[]; quota?: number }>;
  readonly outOfDomain?: number[];
  readonly skipped?: string[];
  readonly published?: Record<string, JsonValue>;
  readonly kernel?: KernelReport;
  readonly plan?: boolean;
}

function report(spec: Spec): AuditReport {
  const leases = Array.from({ length: spec.leases }, (_, i) => lease(i + 1));
  const nextHops = new Map(leases.map((l, i) => [l.attrs.publicIp, hop(`i-${i + 1}`)]));
  for (const n of spec.outOfDomain ?? []) nextHops.delete(ip(n));
  const tables: ObservedTable[] = Object.entries(spec.tables ?? {}).map(([table, t]) => ({
    table, name: table === 'rtb-1' ? 'prod-a' : undefined,
    listing: { owned: t.routes, foreign: t.foreign ?? [] },
    capacity: { quota: t.quota ?? 50, used: t.routes.length + (t.foreign?.length ?? 0) },
  }));
  const drift = computeDrift({ leases, nextHops, tables });
  const snapshot = { leases, skipped: (spec.skipped ?? []).map((key) => ({ key, error: new Error(`lease ${key}: value is not JSON`) })), revision: 42 };
  return buildReport({
    valid: leases, invalid: [],
    generatedAt: '2026-01-01T00:00:00.000Z',
    store: { store: 'etcd http://127.0.0.1:2379', prefix: '/coreos.com/network' },
    snapshot,
    // A controller that observed the tables just now: its statuses are fresh.
    published: decodeRouteStatuses([...Object.entries(spec.published ?? {}).map(([k, v]) => [k, JSON.stringify(v)] as const), [HEARTBEAT_KEY, encodeHeartbeat({ observed: '2026-01-01T00:00:00.000Z', resyncSeconds: 60 })]]),
    cloud: spec.tables ? {
      provider: 'aws', tables, drift, apiCalls: { DescribeRouteTables: { ok: 3 } },
      plan: spec.plan ? planRoutes(drift, { trusted: true, budget: DEFAULT_BUDGET }) : undefined,
    } : undefined,
    kernel: spec.kernel,
  });
}

const programmed = (tables: string[]): JsonValue => ({ state: 'programmed', tables: Object.fromEntries(tables.map((t) => [t, 'programmed'])), reason: null });
const allOk = (n: number, table: string): RouteEntry[] => Array.from({ length: n }, (_, i) => route(table, i + 1, `i-${i + 1}`));
const statusAll = (n: number, tables: string[]): Record<string, JsonValue> => Object.fromEntries(Array.from({ length: n }, (_, i) => [`${net(i + 1)}-24`, programmed(tables)]));

const kernelReport = (drift: KernelReport['drift']): KernelReport => ({
  netns: 'tt-x', backend: 'vxlan', ownLease: '10.244.9.0-24', routeDomain: null, peers: 2, cloudRoutedPeers: 0,
  objects: { expected: 6, observed: 6 },
  counts: { missing: drift.filter((d) => d.kind === 'missing').length, extra: drift.filter((d) => d.kind === 'extra').length, different: drift.filter((d) => d.kind === 'different').length },
  drift, skippedPeers: [],
});

describe('summary line (first line of the table output)', () => {
  const cases: { description: string; report: () => AuditReport; line: string; result: AuditReport['result'] }[] = [
    {
      description: 'clean cluster in two tables',
      report: () => report({ leases: 3, tables: { 'rtb-1': { routes: allOk(3, 'rtb-1') }, 'rtb-2': { routes: allOk(3, 'rtb-2') } }, published: statusAll(3, ['rtb-1', 'rtb-2']) }),
      line: 'OK: no drift in 2 tables (3 leases, 3 ok)',
      result: 'ok',
    },
    {
      description: 'one missing and one stale in one of two tables',
      report: () => report({
        leases: 3,
        tables: { 'rtb-1': { routes: [route('rtb-1', 1, 'i-1'), route('rtb-1', 2, 'i-2'), route('rtb-1', 9, 'i-9')] }, 'rtb-2': { routes: allOk(3, 'rtb-2') } },
        published: { ...statusAll(2, ['rtb-1', 'rtb-2']), '10.244.3.0-24': { state: 'pending', tables: { 'rtb-1': 'pending', 'rtb-2': 'programmed' } } },
      }),
      line: 'DRIFT: 1 missing, 1 stale in 1 of 2 tables (3 leases, 2 ok)',
      result: 'drift',
    },
    {
      description: 'out-of-domain leases are counted, not drift',
      report: () => report({ leases: 3, outOfDomain: [3], tables: { 'rtb-1': { routes: allOk(2, 'rtb-1') } }, published: statusAll(2, ['rtb-1']) }),
      line: "OK: no drift in 1 table (3 leases, 3 ok, 1 outside the cloud's network)",
      result: 'ok',
    },
    {
      description: 'cloud not audited: an orphan status is still found',
      report: () => report({ leases: 1, published: { '10.244.7.0-24': programmed(['rtb-1']) } }),
      line: 'DRIFT: 1 route status disagreement (1 lease, 1 ok)',
      result: 'drift',
    },
    {
      description: 'cloud not audited, clean',
      report: () => report({ leases: 2 }),
      line: 'OK: no drift; cloud not audited (2 leases, 2 ok)',
      result: 'ok',
    },
    {
      description: 'unreadable lease, status disagreement and kernel drift together',
      report: () => report({
        leases: 2, skipped: ['10.244.8.0-24'], tables: { 'rtb-1': { routes: allOk(2, 'rtb-1') } },
        published: { '10.244.1.0-24': programmed(['rtb-1']) },
        kernel: kernelReport([{ kind: 'missing', peer: '10.244.1.0-24', object: { kind: 'neigh', key: 'neigh flannel.1 10.244.1.0', text: 'neigh 10.244.1.0 lladdr 0e:00:00:00:00:01 dev flannel.1' }, have: null }]),
      }),
      line: 'DRIFT: 1 unreadable lease; 1 route status disagreement; kernel: 1 missing (2 leases, 0 ok)',
      result: 'drift',
    },
    {
      description: 'thousands are grouped',
      report: () => report({ leases: 1200, tables: { 'rtb-1': { routes: allOk(1000, 'rtb-1'), quota: 2000 } }, published: statusAll(1200, ['rtb-1']) }),
      line: 'DRIFT: 200 missing in 1 of 1 table; 200 route status disagreements (1,200 leases, 1,000 ok)',
      result: 'drift',
    },
  ];
  for (const c of cases) {
    test(c.description, () => {
      const r = c.report();
      assert.equal(summaryLine(r), c.line);
      assert.equal(r.result, c.result);
      assert.equal(renderTable(r, { color: false, limit: 50 }).split('\n')[0], c.line);
    });
  }

  test('an audit that could not be done', () => {
    const r = errorReport({ source: 'etcd', message: 'reading the leases from etcd http://127.0.0.1:1: no answer within 1s (--timeout)' }, '2026-01-01T00:00:00.000Z');
    assert.equal(summaryLine(r), 'ERROR: could not audit: reading the leases from etcd http://127.0.0.1:1: no answer within 1s (--timeout)');
  });
});

describe('table output', () => {
  const drifty = (): AuditReport => report({
    leases: 4, outOfDomain: [4], plan: true,
    tables: {
      'rtb-1': {
        routes: [route('rtb-1', 1, 'i-1'), route('rtb-1', 2, 'i-old'), route('rtb-1', 9, 'i-9')],
        foreign: [{ table: 'rtb-1', destination: '10.244.3.0/24', nextHop: hop('i-vpn'), state: 'active', owned: false }],
      },
      'rtb-2': { routes: allOk(3, 'rtb-2') },
    },
    published: { ...statusAll(3, ['rtb-1', 'rtb-2']) },
  });

  const cases: { description: string; opts: { color: boolean; limit: number }; includes: RegExp[]; excludes: RegExp[] }[] = [
    {
      description: 'sections: tables with capacity, route drift, status, plan; no colour codes',
      opts: { color: false, limit: 50 },
      includes: [
        /^ROUTE TABLES \(aws\)$/m,
        /^TABLE +USED\/QUOTA +OK +MISSING +OVERFLOW +WRONG-NEXT-HOP +BLACKHOLE +STALE +CONFLICT$/m,
        /^rtb-1 \(prod-a\) +4\/50 +1 +0 +0 +1 +0 +1 +1$/m,
        /^rtb-1 +10\.244\.2\.0\/24 +wrong-next-hop +10\.244\.2\.0-24 +i-2 +i-old$/m,
        /^rtb-1 +10\.244\.3\.0\/24 +conflict +10\.244\.3\.0-24 +i-3 +i-vpn not tartan's$/m,
        /^rtb-1 +10\.244\.9\.0\/24 +stale +- +- +i-9$/m,
        /1 lease outside aws's network/,
        /^10\.244\.2\.0-24 +mismatch +rtb-1 +programmed +pending +rtb-1: status says programmed, but the route is pointing at another next hop$/m,
        /^PLAN \(what the controller would do; nothing was changed\)$/m,
        /^replace +rtb-1 +10\.244\.2\.0\/24 +→ i-2 \(was i-old\) +10\.244\.2\.0-24$/m,
        /^delete +rtb-1 +10\.244\.9\.0\/24 +was i-9$/m,
      ],
      excludes: [/\u001b\[/],
    },
    {
      description: 'colour when asked: the verdict and the kinds',
      opts: { color: true, limit: 50 },
      includes: [/^\u001b\[31mDRIFT:\u001b\[0m /, /\u001b\[31mwrong-next-hop/, /\u001b\[33mstale/],
      excludes: [],
    },
    {
      description: 'a limit cuts long sections and says how many were left out',
      opts: { color: false, limit: 1 },
      includes: [/^… and 2 more \(--limit 0 shows all; --output json lists everything\)$/m],
      excludes: [/10\.244\.9\.0\/24 +stale/],
    },
  ];
  for (const c of cases) {
    test(c.description, () => {
      const text = renderTable(drifty(), c.opts);
      for (const re of c.includes) assert.match(text, re);
      for (const re of c.excludes) assert.doesNotMatch(text, re);
    });
  }

  test('kernel section: each drift item with its peer; a clean kernel says so', () => {
    const dirty = renderTable(report({
      leases: 2,
      kernel: kernelReport([
        { kind: 'missing', peer: '10.244.1.0-24', object: { kind: 'neigh', key: 'neigh flannel.1 10.244.1.0', text: 'neigh 10.244.1.0 lladdr 0e:00:00:00:00:01 dev flannel.1' }, have: null },
        { kind: 'extra', peer: null, object: { kind: 'route', key: 'route 10.99.0.0/24', text: 'route 10.99.0.0/24 via 192.168.0.7 dev eth0' }, have: null },
      ]),
    }), { color: false, limit: 50 });
    assert.match(dirty, /^KERNEL \(vxlan, netns tt-x, own lease 10\.244\.9\.0-24, 2 peers, 6\/6 objects\)$/m);
    assert.match(dirty, /^missing +10\.244\.1\.0-24 +neigh 10\.244\.1\.0 lladdr 0e:00:00:00:00:01 dev flannel\.1$/m);
    assert.match(dirty, /^extra +- +route 10\.99\.0\.0\/24 via 192\.168\.0\.7 dev eth0$/m);
    const clean = renderTable(report({ leases: 2, kernel: kernelReport([]) }), { color: false, limit: 50 });
    assert.match(clean, /^OK: no drift; cloud not audited; kernel matches 2 peers \(2 leases, 2 ok\)$/m);
    assert.match(clean, /^KERNEL .*\nno drift$/m);
  });
});

describe('JSON output (schemaVersion 1)', () => {
  test('the top-level fields are always present, in a stable order', () => {
    for (const r of [report({ leases: 1 }), report({ leases: 2, tables: { 'rtb-1': { routes: [] } }, plan: true }), errorReport({ source: 'etcd', message: 'x' }, 'now')]) {
      const parsed = JSON.parse(renderJson(r)) as Record<string, unknown>;
      assert.deepEqual(Object.keys(parsed), [
        'schemaVersion', 'generatedAt', 'result', 'summary', 'sources', 'tables', 'subnets', 'outOfDomain',
        'unreadableLeases', 'invalidLeases', 'statusDisagreements', 'kernel', 'plan', 'error',
      ]);
      assert.equal(parsed.schemaVersion, 1);
    }
  });

  const cases: { description: string; report: () => AuditReport; check: (j: AuditReport) => void }[] = [
    {
      description: 'a missing route: per table, per subnet, and in the plan',
      report: () => report({ leases: 2, plan: true, tables: { 'rtb-1': { routes: [route('rtb-1', 1, 'i-1')] } } }),
      check: (j) => {
        assert.equal(j.result, 'drift');
        assert.deepEqual(j.tables[0], {
          id: 'rtb-1', name: 'prod-a', capacity: { used: 1, quota: 50, free: 49 },
          counts: { ok: 1, missing: 1, overflow: 0, 'wrong-next-hop': 0, blackhole: 0, stale: 0, conflict: 0 },
          drift: [{ table: 'rtb-1', destination: '10.244.2.0/24', kind: 'missing', lease: '10.244.2.0-24', want: { kind: 'instance', id: 'i-2' }, have: null }],
        });
        assert.deepEqual(j.subnets.map((s) => [s.lease, s.route, s.published, s.problems[0]]), [
          ['10.244.1.0-24', 'programmed', null, 'route status: the controller has published no route status for this lease'],
          ['10.244.2.0-24', 'pending', null, 'rtb-1: missing'],
        ]);
        assert.deepEqual(j.plan, { actions: [{ op: 'create', table: 'rtb-1', destination: '10.244.2.0/24', nextHop: { kind: 'instance', id: 'i-2' }, lease: '10.244.2.0-24' }], held: { deletions: 0, reason: null } });
        assert.equal(j.summary.problems, 3, '1 missing route + 2 leases without published status');
      },
    },
    {
      description: 'overflow: a full table',
      report: () => report({ leases: 2, tables: { 'rtb-1': { routes: [route('rtb-1', 1, 'i-1')], quota: 1 } }, published: statusAll(1, ['rtb-1']) }),
      check: (j) => {
        assert.deepEqual(j.tables[0]!.drift.map((d) => [d.destination, d.kind]), [['10.244.2.0/24', 'overflow']]);
        assert.deepEqual(j.tables[0]!.capacity, { used: 1, quota: 1, free: 0 });
      },
    },
    {
      description: 'a blackhole route, and the sources block',
      report: () => report({ leases: 1, tables: { 'rtb-1': { routes: [route('rtb-1', 1, 'i-1', { state: 'blackhole' })] } }, published: statusAll(1, ['rtb-1']) }),
      check: (j) => {
        assert.deepEqual(j.tables[0]!.drift[0]!.have, { nextHop: { kind: 'instance', id: 'i-1' }, state: 'blackhole', owned: true });
        assert.deepEqual(j.sources, {
          leases: { store: 'etcd http://127.0.0.1:2379', prefix: '/coreos.com/network', revision: 42 },
          cloud: { provider: 'aws', apiCalls: { DescribeRouteTables: { ok: 3 } } },
          routeStatus: { entries: 1, heartbeat: '2026-01-01T00:00:00.000Z', fresh: true },
        });
      },
    },
    {
      description: 'an error report carries the source and the message, and nothing else',
      report: () => errorReport({ source: 'cloud', message: 'reading the route tables from the aws API: route tables rtb-9 not found' }, 'now'),
      check: (j) => {
        assert.equal(j.result, 'error');
        assert.deepEqual(j.error, { source: 'cloud', message: 'reading the route tables from the aws API: route tables rtb-9 not found' });
        assert.equal(j.kernel, null);
      },
    },
  ];
  for (const c of cases) test(c.description, () => c.check(JSON.parse(renderJson(c.report())) as AuditReport));
});
