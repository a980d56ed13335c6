// The controller's published route status (`<prefix>/routes/<subnet-key>`) vs what
// the audit observes. Agents choose their path by it (hybrid rule 1), so a status
// that says `programmed` for a route that is not there blackholes a peer. Pure.
import type { Drift, DriftKind } from '../controller/drift.ts';
import { leaseStatuses } from '../controller/planner.ts';
import { HEARTBEAT_KEY, type PublishedRouteStatus, type RouteState, type RouteStatusRead, freshnessBoundMs, heartbeatFresh } from '../lease/route-status.ts';
import type { StatusDisagreement } from './report.ts';

export interface StatusCheckInput {
  /** Epoch ms of the audit, to judge the controller's heartbeat. */
  readonly now?: number | undefined;
  readonly published: RouteStatusRead;
  /** Keys of the leases that parse, and of those that do not (the controller keeps their status: fail static). */
  readonly leaseKeys: ReadonlySet<string>;
  readonly unreadableKeys: ReadonlySet<string>;
  /** The observed drift; undefined when the cloud was not audited (then only orphans and unreadable values are found). */
  readonly drift?: Drift | undefined;
}

export function statusDisagreements(input: StatusCheckInput): StatusDisagreement[] {
  const out: StatusDisagreement[] = [];
  const computed = input.drift ? leaseStatuses(input.drift) : undefined;
  for (const [lease, err] of input.published.unreadable) {
    out.push({ lease, kind: 'unreadable', table: null, published: null, observed: null, message: `the route status value is not one the controller writes: ${err.message}` });
  }
  for (const [lease, status] of input.published.statuses) {
    if (!input.leaseKeys.has(lease) && !input.unreadableKeys.has(lease)) {
      out.push({ lease, kind: 'orphan', table: null, published: status.state, observed: null, message: 'route status for a lease that no longer exists' });
    } else if (computed && input.leaseKeys.has(lease) && !computed.has(lease)) {
      out.push({
        lease, kind: 'mismatch', table: null, published: status.state, observed: null,
        message: `status says ${status.state}, but the cloud cannot route this host (not in its network)`,
      });
    }
  }
  if (input.drift && computed) out.push(...tableDisagreements(input.drift, computed, input.published));
  const stale = staleHeartbeat(input);
  if (stale) out.push(stale);
  return out.sort((a, b) => cmp(a.lease, b.lease) || cmp(a.table ?? '', b.table ?? ''));
}

/**
 * Statuses that say `programmed` while the controller's heartbeat is stale or
 * missing: agents ignore them (kernel path for every peer), which is safe, but
 * the VPC routes nobody checks any more. One row, under the heartbeat's key.
 */
function staleHeartbeat(input: StatusCheckInput): StatusDisagreement | undefined {
  if (input.now === undefined) return undefined;
  const programmed = [...input.published.statuses.values()].filter((s) => s.state === 'programmed').length;
  if (programmed === 0) return undefined;
  const hb = input.published.heartbeat;
  if (heartbeatFresh(hb, input.now)) return undefined;
  const age = hb ? input.now - Date.parse(hb.observed) : undefined;
  return {
    lease: HEARTBEAT_KEY, kind: 'stale', table: null, published: 'programmed', observed: null,
    message: hb
      ? `the controller last observed the tables ${Math.round((age ?? 0) / 1000)} s ago (statuses are trusted for ${freshnessBoundMs(hb) / 1000} s): agents ignore ${programmed} programmed status(es) and use the kernel path`
      : `no controller heartbeat: agents ignore ${programmed} programmed status(es) and use the kernel path`,
  };
}

function tableDisagreements(drift: Drift, computed: ReturnType<typeof leaseStatuses>, published: RouteStatusRead): StatusDisagreement[] {
  const kinds = new Map<string, DriftKind>();
  for (const t of drift.tables) for (const i of t.items) if (i.leaseKey) kinds.set(`${i.leaseKey}\u0000${t.table}`, i.kind);
  const out: StatusDisagreement[] = [];
  for (const [lease, want] of computed) {
    if (published.unreadable.has(lease)) continue; // reported as unreadable
    const status: PublishedRouteStatus | undefined = published.statuses.get(lease);
    if (status === undefined) {
      out.push({ lease, kind: 'missing', table: null, published: null, observed: want.state, message: 'the controller has published no route status for this lease' });
      continue;
    }
    for (const [table, observed] of Object.entries(want.tables)) {
      const said = status.tables[table];
      if (said !== undefined && equivalent(said, observed)) continue;
      const kind = kinds.get(`${lease}\u0000${table}`) ?? 'ok';
      out.push({
        lease, kind: 'mismatch', table, published: said ?? null, observed,
        message: said === undefined ? `no status for ${table}; the route is ${ROUTE_TEXT[kind]}` : `${table}: status says ${said}, but the route is ${ROUTE_TEXT[kind]}`,
      });
    }
    for (const table of Object.keys(status.tables)) {
      if (!(table in want.tables)) {
        out.push({ lease, kind: 'mismatch', table, published: status.tables[table] ?? null, observed: null, message: `${table}: status names a table that is not managed` });
      }
    }
  }
  return out;
}

/** `error` is a failed attempt at what `pending` plans: both say "not routed yet, the controller is on it". */
function equivalent(a: RouteState, b: RouteState): boolean {
  const norm = (s: RouteState): RouteState => (s === 'error' ? 'pending' : s);
  return norm(a) === norm(b);
}

const ROUTE_TEXT: Readonly<Record<DriftKind, string>> = {
  ok: 'in place',
  missing: 'missing',
  overflow: 'not there (the table is full)',
  'wrong-next-hop': 'pointing at another next hop',
  blackhole: 'a blackhole (its target is gone)',
  stale: 'stale',
  conflict: 'covered by a route tartan does not own',
};

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
