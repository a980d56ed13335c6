// Route status per lease at `<prefix>/routes/<subnet-key>`: what agents (hybrid
// path choice) and `tartan audit` read. Written only when it changes.
import { errorMessage } from '../errors.ts';
import type { JsonValue } from '../lease/lease.ts';
import type { LeaseSnapshot, RouteStatusStore } from '../lease/store.ts';
import type { ActionResult } from './act.ts';
import type { Drift } from './drift.ts';
import { type LeaseRouteStatus, type RoutePlan, type RouteState, worst } from './planner.ts';

export interface PublishedStatus extends LeaseRouteStatus {
  readonly provider: string;
  readonly updated: string;
}

export class StatusPublisher {
  readonly #store: RouteStatusStore;
  readonly #provider: string;
  #written: Map<string, string> | undefined;
  #current = new Map<string, LeaseRouteStatus>();

  constructor(opts: { store: RouteStatusStore; provider: string }) {
    this.#store = opts.store;
    this.#provider = opts.provider;
  }

  current(): ReadonlyMap<string, LeaseRouteStatus> {
    return this.#current;
  }

  async publish(snapshot: LeaseSnapshot, _drift: Drift, plan: RoutePlan, results: readonly ActionResult[], signal: AbortSignal): Promise<void> {
    this.#written ??= await this.#load(signal);
    const next = applyResults(plan.statuses, results);
    this.#current = next;
    const skipped = new Set(snapshot.skipped.map((s) => s.key));
    const updated = new Date().toISOString();
    const bodies = new Map<string, string>();
    const puts = new Map<string, JsonValue>();
    for (const [key, status] of next) {
      const body = JSON.stringify({ state: status.state, tables: status.tables, reason: status.reason ?? null });
      if (this.#written.get(key) === body) continue;
      bodies.set(key, body);
      puts.set(key, { ...(JSON.parse(body) as Record<string, JsonValue>), provider: this.#provider, updated });
    }
    const deletes = [...this.#written.keys()].filter((key) => !next.has(key) && !skipped.has(key));
    if (puts.size === 0 && deletes.length === 0) return;
    // Batched (a few transactions, not one request per lease); remembered only once written.
    await this.#store.writeRouteStatuses(puts, deletes, signal);
    for (const [key, body] of bodies) this.#written.set(key, body);
    for (const key of deletes) this.#written.delete(key);
  }

  async #load(signal: AbortSignal): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const [key, value] of await this.#store.listRouteStatus(signal)) {
      if (value && typeof value === 'object' && !Array.isArray(value)) {
        out.set(key, JSON.stringify({ state: value.state, tables: value.tables, reason: value.reason ?? null }));
      } else out.set(key, '');
    }
    return out;
  }
}

/**
 * The plan's statuses, corrected by what actually happened when acting. A create
 * or replace the provider confirmed is `programmed` at once (every provider returns
 * only when the route is in effect: EC2 synchronously, GCE at operation DONE,
 * Alibaba at Available), so agents may switch paths in the same pass.
 */
export function applyResults(statuses: ReadonlyMap<string, LeaseRouteStatus>, results: readonly ActionResult[]): Map<string, LeaseRouteStatus> {
  const out = new Map(statuses);
  for (const r of results) {
    if (r.action.op === 'delete') continue;
    const key = r.action.leaseKey;
    const prev = out.get(key);
    const state: RouteState = r.outcome === 'done' ? 'programmed' : r.outcome;
    const tables = { ...(prev?.tables ?? {}), [r.action.table]: state };
    const reason = r.outcome === 'done' ? prev?.reason : `${r.action.op} in ${r.action.table}: ${errorMessage(r.error)}`;
    out.set(key, { state: worst(Object.values(tables)), tables, reason });
  }
  return out;
}
