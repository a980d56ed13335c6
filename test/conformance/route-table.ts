// One conformance suite for every RouteTableWriter (Hono's common.case.test.ts
// idea): fake, aws, gce and alicloud all run these cases; an implementation lists
// the cases it cannot pass, by name, with the reason. The optional abilities
// (replace, batch writes, host preparation: abilities.ts) are found with the
// guards the controller uses; a provider without one lists it as a known gap.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConflictError, NotOwnedError, QuotaExceededError } from '../../src/errors.ts';
import type { ApiCallCounts, HostRef, NextHop, RouteTableWriter } from '../../providers/route-table.ts';
import { ABILITY_CASES, ABILITY_GUARDS, type AbilityCaseName, abilityCases } from './abilities.ts';

export interface ConformanceHarness {
  readonly provider: RouteTableWriter;
  /** A managed table with no routes of tartan's and room for at least 20. */
  readonly table: string;
  /** The cluster Network the provider was built with, e.g. 10.244.0.0/16. */
  readonly clusterNetwork: string;
  /** At least 3 hosts the cloud knows, with the next hop each resolves to. */
  readonly hosts: readonly { readonly host: HostRef; readonly nextHop: NextHop }[];
  /** A host the cloud does not know (on-prem). */
  readonly outsideHost: HostRef;
  /** A next hop of the cloud's form that names no instance. */
  readonly absentNextHop: NextHop;
  setQuota(quota: number): Promise<void>;
  /** Adds a route that tartan does not own (no marker, or another origin). */
  seedForeignRoute(destination: string, nextHop: NextHop): Promise<void>;
  /** Makes list answers paginate after `n` items (each page one API call). */
  setPageSize(n: number): Promise<void>;
  /** The next calls fail: first `throttle` throttling errors, then `serverErrors` 5xx. */
  injectFaults(faults: { throttle?: number; serverErrors?: number }): Promise<void>;
  close(): Promise<void>;
}

/** A harness whose emulator tells which API actions it answered (its call log, by action name). */
export interface RecordingHarness extends ConformanceHarness {
  actions(): Promise<string[]>;
}

export const CASES = [
  'create, list and delete round trip',
  'create is idempotent',
  'delete of a missing route succeeds',
  'capacity counts every route',
  'quota exhaustion is a QuotaExceededError',
  'a foreign route is never owned nor deleted',
  'listing paginates',
  'throttling and 5xx are survived by retries',
  'same destination with another next hop is a ConflictError',
  'hosts resolve to next hops; unknown hosts are absent',
  ...ABILITY_CASES,
] as const;
export type CaseName = (typeof CASES)[number];

export function routeTableConformance(
  name: string,
  makeHarness: () => Promise<ConformanceHarness>,
  knownGaps: Partial<Record<CaseName, string>> = {},
): void {
  describe(`route-table conformance: ${name}`, () => {
    let h: ConformanceHarness;
    const signal = new AbortController().signal;
    let n = 0;
    const dest = (): string => `10.244.${++n}.0/24`;
    before(async () => { h = await makeHarness(); });
    after(async () => { await h?.close(); });

    const cases: Record<CaseName, () => Promise<void>> = {
      'create, list and delete round trip': async () => {
        const d = dest();
        const hop = h.hosts[0]!.nextHop;
        await h.provider.createRoute(h.table, { destination: d, nextHop: hop }, signal);
        const listed = (await h.provider.listRoutes(h.table, signal)).owned.find((r) => r.destination === d);
        assert.ok(listed, `created route ${d} is listed as owned`);
        assert.deepEqual(listed.nextHop, hop);
        await h.provider.deleteRoute(h.table, listed, signal);
        const after = (await h.provider.listRoutes(h.table, signal)).owned.find((r) => r.destination === d);
        assert.equal(after, undefined);
      },
      'create is idempotent': async () => {
        const d = dest();
        const hop = h.hosts[0]!.nextHop;
        await h.provider.createRoute(h.table, { destination: d, nextHop: hop }, signal);
        await h.provider.createRoute(h.table, { destination: d, nextHop: hop }, signal);
        const owned = (await h.provider.listRoutes(h.table, signal)).owned.filter((r) => r.destination === d);
        assert.equal(owned.length, 1);
        await h.provider.deleteRoute(h.table, owned[0]!, signal);
      },
      'delete of a missing route succeeds': async () => {
        const d = dest();
        const hop = h.hosts[0]!.nextHop;
        await h.provider.createRoute(h.table, { destination: d, nextHop: hop }, signal);
        const route = (await h.provider.listRoutes(h.table, signal)).owned.find((r) => r.destination === d)!;
        await h.provider.deleteRoute(h.table, route, signal);
        await h.provider.deleteRoute(h.table, route, signal);
      },
      'capacity counts every route': async () => {
        const before = await h.provider.capacity(h.table, signal);
        const d = dest();
        await h.provider.createRoute(h.table, { destination: d, nextHop: h.hosts[0]!.nextHop }, signal);
        const after = await h.provider.capacity(h.table, signal);
        assert.equal(after.used, before.used + 1);
        assert.ok(after.quota >= after.used);
        const route = (await h.provider.listRoutes(h.table, signal)).owned.find((r) => r.destination === d)!;
        await h.provider.deleteRoute(h.table, route, signal);
      },
      'quota exhaustion is a QuotaExceededError': async () => {
        const { used } = await h.provider.capacity(h.table, signal);
        await h.setQuota(used + 1);
        const first = dest();
        await h.provider.createRoute(h.table, { destination: first, nextHop: h.hosts[0]!.nextHop }, signal);
        await assert.rejects(
          h.provider.createRoute(h.table, { destination: dest(), nextHop: h.hosts[1]!.nextHop }, signal),
          QuotaExceededError,
        );
        await h.setQuota(1000);
        const route = (await h.provider.listRoutes(h.table, signal)).owned.find((r) => r.destination === first)!;
        await h.provider.deleteRoute(h.table, route, signal);
      },
      'a foreign route is never owned nor deleted': async () => {
        const d = dest();
        await h.seedForeignRoute(d, h.hosts[2]!.nextHop);
        const listing = await h.provider.listRoutes(h.table, signal);
        assert.equal(listing.owned.find((r) => r.destination === d), undefined, 'foreign route listed as owned');
        const foreign = listing.foreign.find((r) => r.destination === d);
        assert.ok(foreign, 'foreign route inside the cluster Network is reported');
        assert.equal(foreign.owned, false);
        await assert.rejects(h.provider.deleteRoute(h.table, foreign, signal), NotOwnedError);
        await assert.rejects(h.provider.deleteRoute(h.table, { ...foreign, owned: true }, signal), NotOwnedError);
        const again = await h.provider.listRoutes(h.table, signal);
        assert.ok(again.foreign.find((r) => r.destination === d), 'foreign route survived');
      },
      'listing paginates': async () => {
        await h.setPageSize(5);
        const made: string[] = [];
        for (let i = 0; i < 12; i++) {
          const d = dest();
          made.push(d);
          await h.provider.createRoute(h.table, { destination: d, nextHop: h.hosts[i % 3]!.nextHop }, signal);
        }
        const before = totalCalls(h.provider.calls());
        const owned = (await h.provider.listRoutes(h.table, signal)).owned;
        const pages = totalCalls(h.provider.calls()) - before;
        assert.ok(pages >= Math.ceil(made.length / 5), `${made.length} routes in pages of 5 were read in ${pages} call(s)`);
        for (const d of made) assert.ok(owned.some((r) => r.destination === d), `route ${d} listed across pages`);
        await h.setPageSize(1000);
        for (const r of owned.filter((o) => made.includes(o.destination))) await h.provider.deleteRoute(h.table, r, signal);
      },
      'throttling and 5xx are survived by retries': async () => {
        const d = dest();
        await h.injectFaults({ throttle: 2, serverErrors: 2 });
        await h.provider.createRoute(h.table, { destination: d, nextHop: h.hosts[0]!.nextHop }, signal);
        const route = (await h.provider.listRoutes(h.table, signal)).owned.find((r) => r.destination === d);
        assert.ok(route, 'route created despite faults');
        await h.provider.deleteRoute(h.table, route, signal);
      },
      'same destination with another next hop is a ConflictError': async () => {
        const d = dest();
        await h.provider.createRoute(h.table, { destination: d, nextHop: h.hosts[0]!.nextHop }, signal);
        await assert.rejects(
          h.provider.createRoute(h.table, { destination: d, nextHop: h.hosts[1]!.nextHop }, signal),
          ConflictError,
        );
        const route = (await h.provider.listRoutes(h.table, signal)).owned.find((r) => r.destination === d)!;
        assert.deepEqual(route.nextHop, h.hosts[0]!.nextHop, 'the existing route was not overwritten');
        await h.provider.deleteRoute(h.table, route, signal);
      },
      'hosts resolve to next hops; unknown hosts are absent': async () => {
        const resolved = await h.provider.resolveHosts([...h.hosts.map((x) => x.host), h.outsideHost], signal);
        for (const { host, nextHop } of h.hosts) assert.deepEqual(resolved.get(host.publicIp), nextHop);
        assert.equal(resolved.has(h.outsideHost.publicIp), false);
      },
      ...abilityCases(() => h, dest),
    };

    for (const caseName of CASES) {
      const gap = knownGaps[caseName];
      test(caseName, gap ? { skip: `known gap: ${gap}` } : {}, cases[caseName]);
    }
    test('the abilities it has are exactly those not listed as gaps', () => {
      for (const [caseName, guard] of Object.entries(ABILITY_GUARDS) as [AbilityCaseName, (p: object) => boolean][]) {
        const has = guard(h.provider);
        assert.equal(has, knownGaps[caseName] === undefined, has
          ? `${name} can do "${caseName}" but lists it as a gap`
          : `${name} cannot do "${caseName}" (its guard says no): list it as a known gap, with the reason`);
      }
    });
  });
}

function totalCalls(counts: ApiCallCounts): number {
  return Object.values(counts).reduce((sum, byResult) => sum + Object.values(byResult).reduce((a, b) => a + b, 0), 0);
}
