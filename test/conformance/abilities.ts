// The conformance cases of the optional abilities (providers/route-table.ts):
// each runs where the controller's guard (canReplace, canBatch, canPrepareHosts)
// finds the ability, and a provider without it lists the case as a known gap.
import assert from 'node:assert/strict';
import { NotFoundError, NotOwnedError } from '../../src/errors.ts';
import {
  type BatchRouteWriter, type HostPreparer, type RouteReplacer, type RouteTableWriter, canBatch, canPrepareHosts, canReplace, routesTo,
} from '../../providers/route-table.ts';
import type { ConformanceHarness } from './route-table.ts';

export const ABILITY_GUARDS = {
  'replace changes the next hop in place': canReplace,
  'batch writes create and delete many routes': canBatch,
  'host preparation answers for every next hop': canPrepareHosts,
} as const;
export type AbilityCaseName = keyof typeof ABILITY_GUARDS;
export const ABILITY_CASES = Object.keys(ABILITY_GUARDS) as AbilityCaseName[];

const signal = new AbortController().signal;

/** The provider, if the guard finds the ability; a failure naming the missing gap otherwise. */
function able<T extends object>(p: RouteTableWriter, guard: (p: object) => p is T, caseName: AbilityCaseName): RouteTableWriter & T {
  if (!guard(p)) assert.fail(`${p.provider} cannot do "${caseName}": list it as a known gap, with the reason`);
  return p;
}

export function abilityCases(
  harness: () => ConformanceHarness, dest: () => string,
): Record<AbilityCaseName, () => Promise<void>> {
  return {
    'replace changes the next hop in place': async () => {
      const h = harness();
      const p = able<RouteReplacer>(h.provider, canReplace, 'replace changes the next hop in place');
      const [a, b, c] = h.hosts.map((x) => x.nextHop);
      const d = dest();
      await p.createRoute(h.table, { destination: d, nextHop: a! }, signal);
      await p.replaceRoute(h.table, { destination: d, nextHop: b! }, signal);
      await p.replaceRoute(h.table, { destination: d, nextHop: b! }, signal); // already so: success
      const route = (await p.listRoutes(h.table, signal)).owned.find((r) => r.destination === d);
      assert.ok(route && routesTo(route, b) && !routesTo(route, a), `route ${d} now goes to the new next hop`);
      await assert.rejects(p.replaceRoute(h.table, { destination: dest(), nextHop: b! }, signal), NotFoundError);
      const foreign = dest();
      await h.seedForeignRoute(foreign, c!);
      await assert.rejects(p.replaceRoute(h.table, { destination: foreign, nextHop: a! }, signal), NotOwnedError);
      await p.deleteRoute(h.table, route, signal);
    },
    'batch writes create and delete many routes': async () => {
      const h = harness();
      const p = able<BatchRouteWriter>(h.provider, canBatch, 'batch writes create and delete many routes');
      assert.ok(p.maxBatch >= 1);
      const wanted = h.hosts.map((x) => ({ destination: dest(), nextHop: x.nextHop }));
      const destinations = wanted.map((r) => r.destination).sort();
      for (let round = 0; round < 2; round++) { // the second round finds them there: done again
        const created = await p.createRoutes(h.table, wanted, signal);
        assert.deepEqual({ done: [...created.done].sort(), failed: created.failed }, { done: destinations, failed: [] }, `round ${round + 1}`);
      }
      const listed = (await p.listRoutes(h.table, signal)).owned.filter((r) => destinations.includes(r.destination));
      for (const r of wanted) assert.ok(listed.some((l) => l.destination === r.destination && routesTo(l, r.nextHop)), `${r.destination} created`);
      const foreign = dest();
      await h.seedForeignRoute(foreign, h.hosts[0]!.nextHop);
      const seen = (await p.listRoutes(h.table, signal)).foreign.find((r) => r.destination === foreign)!;
      const deleted = await p.deleteRoutes(h.table, [...listed, { ...seen, owned: true }], signal);
      assert.deepEqual([...deleted.done].sort(), destinations);
      assert.deepEqual(deleted.failed.map((f) => [f.destination, f.error instanceof NotOwnedError]), [[foreign, true]]);
      const after = await p.listRoutes(h.table, signal);
      assert.deepEqual(after.owned.filter((r) => destinations.includes(r.destination)), []);
      assert.ok(after.foreign.some((r) => r.destination === foreign), 'the foreign route survived');
    },
    'host preparation answers for every next hop': async () => {
      const h = harness();
      const p = able<HostPreparer>(h.provider, canPrepareHosts, 'host preparation answers for every next hop');
      const hops = h.hosts.map((x) => x.nextHop);
      const first = await p.prepareHosts([...hops, h.absentNextHop], signal);
      assert.deepEqual(first.map((x) => x.nextHop), [...hops, h.absentNextHop], 'one answer per next hop, in order');
      for (const x of first) assert.ok(['changed', 'ok', 'unfixable'].includes(x.result), x.result);
      assert.equal(first.at(-1)!.result, 'unfixable', 'a next hop that names no instance cannot be prepared');
      assert.ok(first.at(-1)!.reason, 'and says why');
      const second = await p.prepareHosts(hops, signal);
      for (const [i, x] of second.entries()) {
        assert.notEqual(x.result, 'changed', `${x.nextHop.id}: what was fixed stays fixed`);
        if (first[i]!.result !== 'unfixable') assert.equal(x.result, 'ok', `${x.nextHop.id} is prepared`);
      }
    },
  };
}
