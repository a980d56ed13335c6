// From drift to actions, pure. Safety lives here, where it can be tested by table:
// fail static (no deletion on an untrusted lease view), a deletion budget per
// pass, never an action on a route tartan does not own, conflicts only reported.
import { type NextHop, type RouteEntry, routesTo } from '../../providers/route-table.ts';
import { type RouteState, type RouteStatus, worstRouteState } from '../lease/route-status.ts';
import type { Drift, DriftItem, DriftKind } from './drift.ts';

export type RouteAction =
  | { readonly op: 'create'; readonly table: string; readonly destination: string; readonly nextHop: NextHop; readonly leaseKey: string }
  | { readonly op: 'replace'; readonly table: string; readonly destination: string; readonly nextHop: NextHop; readonly leaseKey: string; readonly old: RouteEntry }
  | { readonly op: 'delete'; readonly table: string; readonly route: RouteEntry };


export interface DeletionBudget {
  /** At most this share of the owned routes per pass… */
  readonly percent: number;
  /** …or this many, whichever is larger. */
  readonly min: number;
  /** Ignore the budget (an operator's explicit choice). */
  readonly force: boolean;
}

export interface PlanOptions {
  /** The lease view is synced and connected: only then may anything be deleted. */
  readonly trusted: boolean;
  readonly budget: DeletionBudget;
  /** Destinations never deleted this pass (subnets of leases whose value does not parse). */
  readonly protect?: ReadonlySet<string> | undefined;
}

export interface RoutePlan {
  readonly actions: readonly RouteAction[];
  readonly statuses: ReadonlyMap<string, RouteStatus>;
  /** Deletions that were due but held back this pass, and why. */
  readonly held: HeldDeletions;
}

/**
 * Why deletions were held: `budget` (more are due than one pass may do: the rest
 * go next pass, at once), `untrusted` (the lease view is not synced: fail static),
 * `unparsed` (the lease value does not parse: fail static).
 */
export type HeldCause = 'budget' | 'untrusted' | 'unparsed';

export interface HeldDeletions {
  readonly deletions: number;
  readonly cause?: HeldCause | undefined;
  readonly reason?: string | undefined;
}

export const DEFAULT_BUDGET: DeletionBudget = { percent: 10, min: 5, force: false };

export function planRoutes(drift: Drift, opts: PlanOptions): RoutePlan {
  const actions: RouteAction[] = [];
  const stale: DriftItem[] = [];
  for (const table of drift.tables) {
    for (const item of table.items) {
      const action = actionFor(item);
      if (action) actions.push(action);
      if (item.kind === 'stale') stale.push(item);
    }
  }
  const owned = drift.tables.reduce((n, t) => n + t.items.filter((i) => i.have?.owned).length, 0);
  const { allowed, held } = budgetDeletions(stale, owned, opts);
  for (const item of allowed) if (item.have) actions.push({ op: 'delete', table: item.table, route: item.have });
  return { actions, statuses: leaseStatuses(drift), held };
}

function actionFor(item: DriftItem): RouteAction | undefined {
  const { table, destination, leaseKey, want } = item;
  switch (item.kind) {
    case 'missing':
      return leaseKey && want ? { op: 'create', table, destination, nextHop: want, leaseKey } : undefined;
    case 'wrong-next-hop':
    case 'blackhole':
      // Only ever on an owned route: a foreign one is a conflict, not a replace.
      if (!leaseKey || !want || !item.have?.owned) return undefined;
      // A blackhole whose host still resolves to the dead target (a lookup cached
      // before the instance went, a lease not yet republished): rewriting it changes
      // nothing and would report it programmed. It stays pending until the host is found.
      if (item.kind === 'blackhole' && routesTo(item.have, want)) return undefined;
      return { op: 'replace', table, destination, nextHop: want, leaseKey, old: item.have };
    default:
      return undefined;
  }
}

function budgetDeletions(stale: readonly DriftItem[], owned: number, opts: PlanOptions): { allowed: DriftItem[]; held: RoutePlan['held'] } {
  const staleOwned = stale.filter((i) => i.have?.owned === true);
  const candidates = staleOwned.filter((i) => !opts.protect?.has(i.destination));
  const protectedCount = staleOwned.length - candidates.length;
  if (candidates.length === 0) {
    return { allowed: [], held: protectedCount > 0 ? { deletions: protectedCount, cause: 'unparsed', reason: 'the lease value does not parse (fail static)' } : { deletions: 0 } };
  }
  if (!opts.trusted) {
    return { allowed: [], held: { deletions: candidates.length, cause: 'untrusted', reason: 'the lease view is not synced or not connected (fail static)' } };
  }
  if (opts.budget.force) return { allowed: candidates, held: { deletions: 0 } };
  const limit = Math.max(opts.budget.min, Math.floor((owned * opts.budget.percent) / 100));
  if (candidates.length <= limit) return { allowed: candidates, held: { deletions: 0 } };
  return {
    allowed: candidates.slice(0, limit),
    held: { deletions: candidates.length - limit, cause: 'budget', reason: `deletion budget: at most ${limit} of ${owned} owned routes per pass` },
  };
}

const TABLE_STATE: Record<DriftKind, RouteState | undefined> = {
  ok: 'programmed', missing: 'pending', 'wrong-next-hop': 'pending', blackhole: 'pending',
  overflow: 'overflow', conflict: 'conflict', stale: undefined,
};

/** One status per lease in the route domain, across every managed table. */
export function leaseStatuses(drift: Drift): Map<string, RouteStatus> {
  const perLease = new Map<string, { tables: Record<string, RouteState>; shadows: string[] }>();
  for (const table of drift.tables) {
    for (const item of table.items) {
      const shadowed = (item.shadowedBy?.length ?? 0) > 0;
      const state = shadowed ? 'conflict' : TABLE_STATE[item.kind];
      if (!item.leaseKey || !state) continue;
      const entry = perLease.get(item.leaseKey) ?? { tables: {}, shadows: [] };
      entry.tables[table.table] = state;
      for (const s of item.shadowedBy ?? []) entry.shadows.push(`${s.route.destination} → ${targetText(s.route)} takes ${percent(s.share)} of it in ${table.table}`);
      perLease.set(item.leaseKey, entry);
    }
  }
  const out = new Map<string, RouteStatus>();
  for (const [key, { tables, shadows }] of perLease) {
    out.set(key, { state: worstRouteState(Object.values(tables)), tables, reason: shadows.length > 0 ? `a route tartan does not own: ${shadows.join('; ')}` : reasonFor(tables) });
  }
  return out;
}

function targetText(route: RouteEntry): string {
  return route.nextHop ? route.nextHop.id : 'a target that is not an instance (gateway, peering, …)';
}

function percent(share: number): string {
  return `${Math.round(Math.min(1, share) * 1000) / 10}%`;
}

function reasonFor(tables: Record<string, RouteState>): string | undefined {
  const full = Object.entries(tables).filter(([, s]) => s === 'overflow').map(([t]) => t);
  if (full.length > 0) return `route table full: ${full.join(', ')}`;
  const conflict = Object.entries(tables).filter(([, s]) => s === 'conflict').map(([t]) => t);
  if (conflict.length > 0) return `a route tartan does not own covers this subnet in ${conflict.join(', ')}`;
  return undefined;
}
