// Route status per lease at `<prefix>/routes/<subnet-key>`: what agents (hybrid
// path choice) and `tartan audit` read. Written only when it changes.
import { errorMessage } from '../errors.ts';
import { type PublishedRouteStatus, type RouteState, type RouteStatus, sameRouteStatus, worstRouteState } from '../lease/route-status.ts';
import type { RouteStatusStore } from '../lease/store.ts';
import { type Clock, realClock } from '../util/time.ts';
import type { ActionResult } from './act.ts';
import type { RoutePlan } from './planner.ts';

export interface StatusPublisherOptions {
  readonly store: RouteStatusStore;
  readonly provider: string;
  readonly clock?: Clock | undefined;
}

export interface PublishInput {
  readonly plan: RoutePlan;
  readonly results: readonly ActionResult[];
  /** Keys of leases whose value does not parse: their status is kept (fail static), never deleted. */
  readonly keep: ReadonlySet<string>;
  readonly signal: AbortSignal;
}

export class StatusPublisher {
  readonly #o: StatusPublisherOptions;
  readonly #clock: Clock;
  /** What the store holds, by key; `undefined` for a value that does not decode (rewritten at the first chance). */
  #written: Map<string, RouteStatus | undefined> | undefined;
  #current = new Map<string, RouteStatus>();

  constructor(opts: StatusPublisherOptions) {
    this.#o = opts;
    this.#clock = opts.clock ?? realClock;
  }

  current(): ReadonlyMap<string, RouteStatus> {
    return this.#current;
  }

  async publish(input: PublishInput): Promise<void> {
    const written = (this.#written ??= await this.#load(input.signal));
    const next = applyResults(input.plan.statuses, input.results);
    this.#current = next;
    const updated = new Date(this.#clock.now()).toISOString();
    const puts = new Map<string, PublishedRouteStatus>();
    for (const [key, status] of next) {
      const before = written.get(key);
      if (before !== undefined && sameRouteStatus(before, status)) continue;
      puts.set(key, { ...status, provider: this.#o.provider, updated });
    }
    const deletes = [...written.keys()].filter((key) => !next.has(key) && !input.keep.has(key));
    if (puts.size === 0 && deletes.length === 0) return;
    // Batched (a few transactions, not one request per lease); remembered only once written.
    await this.#o.store.writeRouteStatuses(puts, deletes, input.signal);
    for (const [key, status] of puts) written.set(key, status);
    for (const key of deletes) written.delete(key);
  }

  /**
   * Before acting: a lease whose published status says `programmed` but whose
   * route this pass found missing, moved or shadowed is written with its new
   * state now, so agents leave the VPC path before the controller starts repairing.
   */
  async demote(statuses: ReadonlyMap<string, RouteStatus>, signal: AbortSignal): Promise<void> {
    const written = (this.#written ??= await this.#load(signal));
    const updated = new Date(this.#clock.now()).toISOString();
    const puts = new Map<string, PublishedRouteStatus>();
    for (const [key, status] of statuses) {
      const before = written.get(key);
      if (before?.state === 'programmed' && status.state !== 'programmed') puts.set(key, { ...status, provider: this.#o.provider, updated });
    }
    if (puts.size === 0) return;
    await this.#o.store.writeRouteStatuses(puts, [], signal);
    for (const [key, status] of puts) written.set(key, status);
  }

  async #load(signal: AbortSignal): Promise<Map<string, RouteStatus | undefined>> {
    const read = await this.#o.store.listRouteStatus(signal);
    const out = new Map<string, RouteStatus | undefined>(read.statuses);
    for (const key of read.unreadable.keys()) out.set(key, undefined);
    return out;
  }
}

/**
 * The plan's statuses, corrected by what actually happened when acting. A create
 * or replace the provider confirmed is `programmed` at once (every provider returns
 * only when the route is in effect: EC2 synchronously, GCE at operation DONE,
 * Alibaba at Available), so agents may switch paths in the same pass.
 */
export function applyResults(statuses: ReadonlyMap<string, RouteStatus>, results: readonly ActionResult[]): Map<string, RouteStatus> {
  const out = new Map(statuses);
  for (const r of results) {
    if (r.action.op === 'delete') continue;
    const key = r.action.leaseKey;
    const prev = out.get(key);
    // Done, but a foreign route takes part of the subnet (planned `conflict`): still conflict.
    const planned = prev?.tables[r.action.table];
    const state: RouteState = r.outcome === 'done' ? (planned === 'conflict' ? 'conflict' : 'programmed') : r.outcome;
    const tables = { ...(prev?.tables ?? {}), [r.action.table]: state };
    const reason = r.outcome === 'done' ? prev?.reason : `${r.action.op} in ${r.action.table}: ${errorMessage(r.error)}`;
    out.set(key, { state: worstRouteState(Object.values(tables)), tables, reason });
  }
  return out;
}
