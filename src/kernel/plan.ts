// The one planner every kernel backend shares (flannel keeps this loop once, in
// route_network.go): desired objects from the peer leases vs the objects tartan
// owns now → the smallest ordered list of changes. Pure: no I/O, no clock.
import { type KernelObject, objectKey, routeKey, sameObject } from './objects.ts';

export type ChangeAction = 'add' | 'replace' | 'delete';

export interface Change {
  readonly action: ChangeAction;
  readonly object: KernelObject;
  /** objectKey(object), computed once. */
  readonly key: string;
}

export interface PlanInput {
  /** A list, or already keyed by objectKey (what the agent's loop passes, to save re-keying 15,000 objects). */
  readonly desired: readonly KernelObject[] | ReadonlyMap<string, KernelObject>;
  /** What tartan owns now, by objectKey: a kernel dump on resync, the last-applied cache otherwise. */
  readonly observed: ReadonlyMap<string, KernelObject>;
  /**
   * Destinations whose current objects stay although nothing desires them: peers whose
   * lease is present but unreadable. Fail static: a bad lease never takes a working path away.
   */
  readonly retainDsts?: ReadonlySet<string> | undefined;
  /**
   * Only these keys may have changed (a lease event): plan them alone. Undefined
   * means every key, desired or observed (a resync). Planning a key depends only on
   * its desired and observed object, so the result for the keys in scope is the same.
   */
  readonly scope?: ReadonlySet<string> | undefined;
}

/**
 * Changes in the order that loses no packet: a peer's fdb and neigh entries exist
 * before the route that uses them, every add/replace comes before any delete, and a
 * peer moving from one path to another gets its new route (a `replace` of the same
 * destination, atomic in the kernel) before the old path's neigh/fdb go.
 */
const PHASES: ReadonlyArray<[KernelObject['kind'], 'put' | 'delete']> = [
  ['fdb', 'put'], ['neigh', 'put'], ['route', 'put'],
  ['route', 'delete'], ['neigh', 'delete'], ['fdb', 'delete'],
];

export function planChanges(input: PlanInput): Change[] {
  const wanted = keyed(input.desired);
  const keep = retainedKeys(input.observed, input.retainDsts);
  const byPhase = new Map<string, Change[]>(PHASES.map(([kind, step]) => [`${kind} ${step}`, []]));
  const put = (key: string, o: KernelObject, current: KernelObject | undefined): void => {
    if (current !== undefined && sameObject(o, current)) return;
    byPhase.get(`${o.kind} put`)!.push({ action: current === undefined ? 'add' : 'replace', object: o, key });
  };
  const remove = (key: string, o: KernelObject): void => {
    if (!keep.has(key)) byPhase.get(`${o.kind} delete`)!.push({ action: 'delete', object: o, key });
  };
  if (input.scope === undefined) {
    for (const [key, o] of wanted) put(key, o, input.observed.get(key));
    for (const [key, o] of input.observed) if (!wanted.has(key)) remove(key, o);
  } else {
    for (const key of input.scope) {
      const want = wanted.get(key);
      const current = input.observed.get(key);
      if (want !== undefined) put(key, want, current);
      else if (current !== undefined) remove(key, current);
    }
  }
  return PHASES.flatMap(([kind, step]) => byPhase.get(`${kind} ${step}`)!);
}

function keyed(desired: PlanInput['desired']): ReadonlyMap<string, KernelObject> {
  if (desired instanceof Map) return desired;
  const wanted = new Map<string, KernelObject>();
  for (const o of desired as readonly KernelObject[]) {
    const key = objectKey(o);
    if (!wanted.has(key)) wanted.set(key, o);
  }
  return wanted;
}

/** The route to each retained destination, and the neigh + fdb entries that route goes through. */
function retainedKeys(observed: ReadonlyMap<string, KernelObject>, dsts: ReadonlySet<string> | undefined): Set<string> {
  const keep = new Set<string>();
  for (const dst of dsts ?? []) {
    const route = observed.get(routeKey(dst));
    if (route?.kind !== 'route') continue;
    keep.add(routeKey(dst));
    const neighKey = `neigh ${route.dev} ${route.via}`;
    const neigh = observed.get(neighKey);
    if (neigh?.kind !== 'neigh') continue;
    keep.add(neighKey);
    keep.add(`fdb ${route.dev} ${neigh.mac}`);
  }
  return keep;
}

export function countChanges(changes: readonly Change[]): Record<ChangeAction, number> {
  const counts: Record<ChangeAction, number> = { add: 0, replace: 0, delete: 0 };
  for (const c of changes) counts[c.action] += 1;
  return counts;
}
