// The controller loop, level-triggered: lease events only wake it (debounced);
// each pass observes everything (leases, every managed table, the hosts), plans
// with the pure planner, acts with bounded concurrency, and publishes route
// status. A periodic resync repairs drift that no event announced. It knows
// nothing of leader election: it runs until its signal aborts.
import { errorMessage } from '../errors.ts';
import type { NetworkConfig } from '../config/network.ts';
import { routedIn } from '../lease/hybrid.ts';
import { type InvalidLease, LeaseValidator } from '../lease/validate.ts';
import type { LeaseReader, RouteStatusStore } from '../lease/store.ts';
import type { Logger } from '../observe/log.ts';
import { type ControllerMetrics, recordInvalidLeases } from '../observe/metrics.ts';
import type { Health } from '../observe/health.ts';
import { type Clock, realClock, setLongTimeout } from '../util/time.ts';
import { Wakeup } from '../util/wakeup.ts';
import type { RouteTableWriter } from '../../providers/route-table.ts';
import { applyPlan, type ActionResult } from './act.ts';
import { computeDrift, countByKind, type Drift } from './drift.ts';
import { HostResolver } from './hosts.ts';
import { observeTables, protectedDestinations } from './observe.ts';
import { type DeletionBudget, type RoutePlan, planRoutes } from './planner.ts';
import { StatusPublisher } from './status.ts';
import { ManagedTables } from './managed-tables.ts';
import type { OwnershipLedger } from '../lease/ledger.ts';
import type { Lease } from '../lease/lease.ts';
import type { Cidr } from '../net/cidr.ts';
import type { NextHop } from '../../providers/route-table.ts';
import { LedgerKeeper } from './ledger-keeper.ts';
import { type Ownership, applyLedger, desiredNextHops } from './ownership.ts';
import type { ObservedTable } from './observe.ts';

export interface ControllerOptions {
  readonly leases: LeaseReader;
  /** The network config every lease is validated against (lease/validate.ts) before anything acts on it. */
  readonly config: NetworkConfig;
  /**
   * This cluster's ownership ledger. With it, a provider that cannot mark routes
   * (AWS) owns only what the ledger records or what exactly matches a lease
   * (adoption); without it (tests of other things), the provider's own rule stands.
   */
  readonly ledger?: OwnershipLedger | undefined;
  readonly provider: RouteTableWriter;
  /**
   * The cloud network this controller routes (the provider's, src/cli/controller.ts):
   * only leases that published exactly this route domain get routes and statuses;
   * another cloud's leases are its own controller's. Without it (tests of other
   * things), every lease that published a route domain other than none.
   */
  readonly routeDomain?: string | undefined;
  /** Where this controller's statuses and heartbeat go: its route domain's own (EtcdLeaseStore.routeStatusFor). */
  readonly status: RouteStatusStore;
  readonly budget: DeletionBudget;
  readonly resyncMs: number;
  /** The deadline of one whole pass (every cloud and etcd call in it is aborted at this point); default 5 minutes. */
  readonly passTimeoutMs?: number;
  /** Told of every turn of the loop (liveness) and every pass's result (readiness). */
  readonly health?: Health | undefined;
  readonly debounceMs?: number;
  readonly concurrency?: number;
  /** How long a host found outside the route domain is believed to stay there. */
  readonly negativeResolveMs?: number;
  readonly log: Logger;
  readonly clock?: Clock;
  readonly metrics?: ControllerMetrics | undefined;
}

export interface PassResult {
  readonly drift: Drift;
  readonly plan: RoutePlan;
  readonly results: readonly ActionResult[];
  /** Leases the validator set aside this pass: no route, no status change, never deleted on their account. */
  readonly invalid: readonly InvalidLease[];
}

/** Coalescing window for the first event after a quiet period. */
const QUICK_MS = 10;

export const DEFAULT_PASS_TIMEOUT_MS = 300_000;

/** `signal`, or aborted with a TimeoutError after `ms`; cancel() clears the timer. */
function passDeadline(signal: AbortSignal, ms: number): { signal: AbortSignal; cancel: () => void } {
  const timeout = new AbortController();
  const cancel = setLongTimeout(() => timeout.abort(new DOMException(`pass deadline of ${ms} ms exceeded`, 'TimeoutError')), ms);
  return { signal: AbortSignal.any([signal, timeout.signal]), cancel };
}

export class Controller {
  readonly #o: ControllerOptions;
  readonly #clock: Clock;
  readonly #wake = new Wakeup();
  readonly #hosts: HostResolver;
  readonly #status: StatusPublisher;
  readonly #validator: LeaseValidator;
  readonly #networks: readonly Cidr[];
  readonly #ledger: LedgerKeeper | undefined;
  readonly #managed: ManagedTables;
  #lastPassEnd = Number.NEGATIVE_INFINITY;
  lastPass: PassResult | undefined;

  constructor(opts: ControllerOptions) {
    this.#o = opts;
    this.#clock = opts.clock ?? realClock;
    this.#hosts = new HostResolver({ provider: opts.provider, clock: this.#clock, negativeTtlMs: opts.negativeResolveMs ?? 600_000, log: opts.log });
    this.#validator = new LeaseValidator({ config: opts.config, prefixRule: opts.leases.prefixRule });
    this.#networks = [opts.config.ipv4?.network, opts.config.ipv6?.network].filter((n): n is Cidr => n !== undefined);
    this.#ledger = opts.ledger ? new LedgerKeeper({ ledger: opts.ledger, clock: this.#clock }) : undefined;
    this.#status = new StatusPublisher({ store: opts.status, provider: opts.provider.provider, clock: this.#clock });
    this.#managed = new ManagedTables({ provider: opts.provider, resyncMs: opts.resyncMs, clock: this.#clock, log: opts.log, health: opts.health, gauge: opts.metrics?.managedTables });
  }

  /** Something changed (a lease event, a provider hint): run a pass soon. */
  wake(): void {
    this.#wake.wake();
  }

  /** Runs passes until `signal` aborts; then resolves (it stops at once, mid-pass). */
  async run(signal: AbortSignal): Promise<void> {
    this.#wake.wake();
    const health = this.#o.health;
    health?.watch('pass', { periodMs: this.#o.resyncMs, deadlineMs: this.passTimeoutMs });
    health?.expect('pass', { periodMs: this.#o.resyncMs, deadlineMs: this.passTimeoutMs });
    try {
      while (!signal.aborted) {
        health?.tick('pass');
        if (!(await this.#waitForWork(signal))) return;
        health?.tick('pass');
        await this.#passWithDeadline(signal);
      }
    } finally {
      health?.unwatch('pass');
      health?.expectNothing();
    }
  }

  get passTimeoutMs(): number {
    return this.#o.passTimeoutMs ?? DEFAULT_PASS_TIMEOUT_MS;
  }

  /** Waits for a wake-up or the resync; false when `signal` aborted. */
  async #waitForWork(signal: AbortSignal): Promise<boolean> {
    try {
      // Debounce: a burst of events (a cluster starting) becomes one pass per
      // debounceMs; the first event after a quiet period only waits QUICK_MS, so a
      // single new lease reaches the cloud without paying the whole debounce.
      const debounceMs = this.#o.debounceMs ?? 100;
      const debounce = (): number => (this.#clock.now() - this.#lastPassEnd > 2 * debounceMs ? Math.min(QUICK_MS, debounceMs) : debounceMs);
      await this.#wake.wait(signal, this.#o.resyncMs, debounce, this.#clock);
      return true;
    } catch {
      return false;
    }
  }

  /** One pass under its deadline: an aborted call is an error of this pass, logged and counted; the next pass runs. */
  async #passWithDeadline(signal: AbortSignal): Promise<void> {
    const health = this.#o.health;
    const deadline = passDeadline(signal, this.passTimeoutMs);
    try {
      const pass = await this.reconcileOnce(deadline.signal);
      this.#lastPassEnd = this.#clock.now();
      const failed = pass.results.filter((r) => r.error).length;
      if (failed === 0) health?.succeeded();
      else health?.failed(`${failed} of ${pass.results.length} cloud changes failed`);
      // Work held back or failed this pass is retried at once, not at the next resync.
      if (pass.plan.held.cause === 'budget') this.#wake.wake();
    } catch (err) {
      if (signal.aborted) return;
      this.#lastPassEnd = this.#clock.now();
      const why = deadline.signal.aborted ? `pass deadline of ${this.passTimeoutMs} ms exceeded (${errorMessage(err)})` : errorMessage(err);
      health?.failed(why);
      this.#o.metrics?.passes.inc({ result: 'error' });
      this.#o.log.error({ err: why }, 'pass failed; nothing deleted; will retry');
      await this.#clock.sleep(1000, signal).catch(() => {});
      this.#wake.wake();
    } finally {
      deadline.cancel();
    }
  }

  /** observe → plan → act → publish. */
  async reconcileOnce(signal: AbortSignal): Promise<PassResult> {
    const started = this.#clock.now();
    const snapshot = await this.#o.leases.list(signal);
    const view = this.#validator.validate(snapshot.leases);
    for (const i of view.changed) this.#o.log.warn({ lease: i.key, reason: i.reason, would: i.would }, `invalid lease set aside: ${i.message}`);
    const listed = await observeTables(this.#o.provider, signal);
    await this.#managed.observe(listed, signal);
    const observedAt = new Date(this.#clock.now()).toISOString();
    const blackholed = listed.flatMap((t) => t.listing.owned.filter((r) => r.state === 'blackhole'));
    const nextHops = await this.#hosts.resolve(view.valid.filter(routedIn(this.#o.routeDomain)), blackholed, signal);
    const ownership = await this.#ownership(listed, view.valid, nextHops, signal);
    const tables = ownership?.tables ?? listed;
    const drift = computeDrift({ leases: view.valid, nextHops, tables, networks: this.#networks, routeDomain: this.#o.routeDomain });
    const plan = planRoutes(drift, { trusted: true, budget: this.#o.budget, protect: protectedDestinations(snapshot, view.invalid) });
    if (ownership) await this.#ledger?.beforeActing(ownership, plan, signal);
    // Mark programmed leases whose route went missing (hand-deleted, drift) not programmed before repairing them.
    await this.#status.demote(plan.statuses, signal);
    // Agents trust route status only while this heartbeat is fresh (route-status.ts).
    await this.#o.status.writeHeartbeat({ observed: observedAt, resyncSeconds: this.#o.resyncMs / 1000, provider: this.#o.provider.provider }, signal);
    const results = await applyPlan({ provider: this.#o.provider, plan, concurrency: this.#o.concurrency ?? 16, signal, log: this.#o.log });
    if (ownership) await this.#ledger?.afterActing(results, signal);
    // A write the cloud refused may name a host that is gone (terminated, released): look it up again next pass.
    this.#hosts.forget(results.flatMap((r) => (r.outcome === 'error' && r.action.op !== 'delete' ? [r.action.nextHop] : [])));
    const keep = new Set([...snapshot.skipped.map((s) => s.key), ...view.invalid.map((i) => i.key)]);
    await this.#status.publish({ plan, results, keep, signal });
    const pass = { drift, plan, results, invalid: view.invalid };
    this.lastPass = pass;
    this.#record(pass, this.#clock.now() - started);
    return pass;
  }

  /** Ownership from the ledger (see ownership.ts); undefined without a ledger. */
  async #ownership(listed: readonly ObservedTable[], leases: readonly Lease[], nextHops: ReadonlyMap<string, NextHop>, signal: AbortSignal): Promise<Ownership | undefined> {
    if (!this.#ledger) return undefined;
    const ledger = await this.#ledger.list(signal);
    const desired = desiredNextHops(leases, nextHops, this.#o.routeDomain);
    return applyLedger({ tables: listed, ledger, desired, marks: this.#o.provider.marksRoutes !== false, now: this.#ledger.now() });
  }

  #record(pass: PassResult, ms: number): void {
    const counts = countByKind(pass.drift);
    const failed = pass.results.filter((r) => r.error).length;
    const m = this.#o.metrics;
    if (m) {
      m.passDuration.observe(ms / 1000);
      m.passes.inc({ result: failed > 0 ? 'partial' : 'ok' });
      if (failed === 0) m.lastSuccess.set(this.#clock.now() / 1000);
      m.heldDeletions.set(pass.plan.held.deletions);
      recordInvalidLeases(m.invalidLeases, pass.invalid);
      const states = { programmed: 0, pending: 0, overflow: 0, conflict: 0, error: 0 };
      for (const s of this.#status.current().values()) states[s.state]++;
      for (const [state, n] of Object.entries(states)) m.routes.set({ state }, n);
      m.routes.set({ state: 'desired' }, this.#status.current().size);
    }
    if (pass.plan.actions.length > 0 || pass.plan.held.deletions > 0 || failed > 0) {
      this.#o.log.info({ ms, actions: pass.plan.actions.length, failed, held: pass.plan.held, drift: counts }, 'pass');
    }
  }
}
