// The kernel half of the shared reconcile loop: observe (or recall) → plan → apply.
//
// Two speeds. A lease event diffs the desired objects against the last-applied
// cache and sends only the difference to the kernel: no dump of 15,000 objects to
// add one peer. A resync (`observe`) dumps what tartan owns and repairs any drift
// no event announced; the first call after start always observes, which is how
// routes of peers that left while tartan was down get removed (flannel #2554).
import { type Cidr, type Family, formatCidr, overlaps, parseCidr } from '../net/cidr.ts';
import { type Clock, realClock } from '../util/time.ts';
import { type ApplyResult, type FailedChange, applyChanges, describeFailure } from './batch.ts';
import type { KernelTarget } from './exec.ts';
import { type KernelObject, sameObject } from './objects.ts';
import { observeOwned } from './observe.ts';
import { type Change, type PlanInput, planChanges } from './plan.ts';

/** The kernel I/O the reconciler does: a dump of what tartan owns, and a batch apply. */
export interface KernelIo {
  readonly observe: typeof observeOwned;
  readonly apply: typeof applyChanges;
}

const realIo: KernelIo = { observe: observeOwned, apply: applyChanges };

export interface KernelReconcilerOptions extends KernelTarget {
  readonly families: readonly Family[];
  /** tartan's own devices; their permanent neigh/fdb entries are tartan's to remove. */
  readonly devices: readonly string[];
  /** Default: the real `ip`/`bridge` dump and batch apply; tests pass a fake kernel. */
  readonly io?: KernelIo | undefined;
  readonly clock?: Clock | undefined;
  /** A refused change is retried after 1 s, 2 s, 4 s, … up to this (the resync period). Default 10 s. */
  readonly maxBackoffMs?: number | undefined;
}

export interface ReconcileRequest {
  readonly desired: PlanInput['desired'];
  /** Route destinations whose current objects stay although not desired (see PlanInput). */
  readonly retainDsts?: ReadonlySet<string> | undefined;
  /** Keys that may have changed since the last call (see PlanInput.scope); ignored when observing. */
  readonly scope?: ReadonlySet<string> | undefined;
  /** Dump the kernel first instead of trusting the last-applied cache. */
  readonly observe?: boolean | undefined;
  /**
   * Prefixes no route of tartan's may overlap (this host's own subnets, its underlay
   * networks): such a route is refused here, never sent to the kernel.
   */
  readonly forbidden?: readonly Cidr[] | undefined;
  readonly signal?: AbortSignal | undefined;
}

export interface ReconcileOutcome {
  readonly observed: boolean;
  /** Every change sent to the kernel, in order. */
  readonly changes: readonly Change[];
  /** The subset the kernel (or the forbidden-prefix guard) refused; all other changes are in place. */
  readonly failed: readonly FailedChange[];
  /** Changes not tried this call: their key is backing off after earlier refusals. */
  readonly deferred: number;
}

/** Some objects could not be programmed; everything else was. Retried on the next call. */
export class KernelApplyError extends Error {
  readonly failed: readonly FailedChange[];
  /** Changes still backing off from earlier refusals (not tried this time). */
  readonly deferred: number;
  constructor(failed: readonly FailedChange[], deferred = 0) {
    const shown = failed.slice(0, 5).map(describeFailure).join('; ');
    const waiting = deferred > 0 ? `${failed.length > 0 ? '; ' : ''}${deferred} refused change(s) waiting to be retried` : '';
    super(`${failed.length > 0 ? `${failed.length} kernel change(s) failed: ${shown}${failed.length > 5 ? '; …' : ''}` : ''}${waiting}`);
    this.name = 'KernelApplyError';
    this.failed = failed;
    this.deferred = deferred;
  }
}

export class KernelReconciler {
  readonly #opts: KernelReconcilerOptions;
  readonly #io: KernelIo;
  #applied = new Map<string, KernelObject>();
  /** Keys the kernel refused: in scope at every call, tried again once their backoff is over. */
  readonly #backoff = new Map<string, Backoff>();
  readonly #clock: Clock;
  #mustObserve = true;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(opts: KernelReconcilerOptions) {
    this.#opts = opts;
    this.#io = opts.io ?? realIo;
    this.#clock = opts.clock ?? realClock;
  }

  /** How often each currently refused change has been refused (for log lines with a count). */
  refusals(key: string): number {
    return this.#backoff.get(key)?.failures ?? 0;
  }

  /** Calls run one at a time, in call order. */
  reconcile(req: ReconcileRequest): Promise<ReconcileOutcome> {
    const run = this.#queue.then(() => this.#reconcileNow(req));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Forget the cache (the device was re-created, say): the next call observes the kernel. */
  invalidate(): void {
    this.#mustObserve = true;
  }

  async #reconcileNow(req: ReconcileRequest): Promise<ReconcileOutcome> {
    req.signal?.throwIfAborted();
    const observed = req.observe === true || this.#mustObserve;
    const { families, devices, netns } = this.#opts;
    if (observed) this.#merge(await this.#io.observe({ families, devices, netns, signal: req.signal }));
    const scope = observed || req.scope === undefined ? undefined
      : this.#backoff.size === 0 ? req.scope : new Set([...req.scope, ...this.#backoff.keys()]);
    const planned = planChanges({ desired: req.desired, observed: this.#applied, retainDsts: req.retainDsts, scope });
    const now = this.#clock.now();
    const due = planned.filter((c) => (this.#backoff.get(c.key)?.until ?? 0) <= now);
    const guarded = due.filter((c) => forbiddenBy(c, req.forbidden) !== undefined);
    const changes = guarded.length === 0 ? due : due.filter((c) => !guarded.includes(c));
    let result: ApplyResult = { failed: [] };
    if (changes.length > 0) {
      try {
        result = await this.#io.apply(changes, { netns, signal: req.signal });
      } catch (err) {
        this.#mustObserve = true;
        throw err;
      }
    }
    const failed = [
      ...guarded.map((change): FailedChange => ({ change, error: `refused by tartan: it overlaps ${formatCidr(forbiddenBy(change, req.forbidden)!)} (this host's own subnet or underlay network)` })),
      ...result.failed.map(explainFailure),
    ];
    this.#remember(changes, result.failed);
    this.#backOff(changes, failed, now);
    this.#mustObserve = false;
    return { observed, changes, failed, deferred: planned.length - due.length };
  }

  /** Refused keys wait 1 s, 2 s, 4 s, … (capped) before the next try; a key that went through is forgiven. */
  #backOff(sent: readonly Change[], failed: readonly FailedChange[], now: number): void {
    const cap = this.#opts.maxBackoffMs ?? 10_000;
    const refused = new Set(failed.map((f) => f.change.key));
    for (const c of sent) if (!refused.has(c.key)) this.#backoff.delete(c.key);
    for (const f of failed) {
      const failures = (this.#backoff.get(f.change.key)?.failures ?? 0) + 1;
      this.#backoff.set(f.change.key, { failures, until: now + Math.min(cap, 1000 * 2 ** Math.min(failures - 1, 20)) });
    }
  }

  /**
   * Makes the cache equal to a kernel dump, keeping the cached object wherever the
   * kernel agrees with it: a resync at 5,000 peers then allocates only short-lived
   * garbage instead of replacing 15,000 long-lived objects every 10 s (RSS).
   */
  #merge(fresh: ReadonlyMap<string, KernelObject>): void {
    for (const [key, o] of fresh) {
      const cached = this.#applied.get(key);
      if (cached === undefined || !sameObject(cached, o)) this.#applied.set(key, o);
    }
    for (const key of this.#applied.keys()) if (!fresh.has(key)) this.#applied.delete(key);
  }

  /**
   * Applied puts and deletes update the cache. A failed put leaves the key out (its
   * state is unknown, so the next event re-sends it); a failed delete stays in, so
   * the delete is tried again.
   */
  #remember(changes: readonly Change[], failed: readonly FailedChange[]): void {
    const refused = new Set(failed.map((f) => f.change));
    for (const c of changes) {
      const key = c.key;
      if (refused.has(c)) {
        if (c.action !== 'delete') this.#applied.delete(key);
      } else if (c.action === 'delete') {
        this.#applied.delete(key);
      } else {
        this.#applied.set(key, c.object);
      }
    }
  }
}

interface Backoff {
  readonly failures: number;
  readonly until: number;
}

/** The forbidden prefix a route put would overlap, if any. */
function forbiddenBy(change: Change, forbidden: readonly Cidr[] | undefined): Cidr | undefined {
  if (forbidden === undefined || forbidden.length === 0 || change.action === 'delete' || change.object.kind !== 'route') return undefined;
  let dst: Cidr;
  try {
    dst = parseCidr(change.object.dst, 'route');
  } catch {
    return undefined;
  }
  return forbidden.find((f) => overlaps(f, dst));
}

/** "File exists" on a route add means a route tartan did not make is there: say so. */
function explainFailure(f: FailedChange): FailedChange {
  if (f.change.action === 'add' && f.change.object.kind === 'route' && /File exists/i.test(f.error)) {
    return { ...f, error: `another route to ${f.change.object.dst} is in the way (not tartan's; tartan never replaces it): ${f.error}` };
  }
  return f;
}
