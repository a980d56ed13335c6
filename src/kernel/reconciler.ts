// The kernel half of the shared reconcile loop: observe (or recall) → plan → apply.
//
// Two speeds. A lease event diffs the desired objects against the last-applied
// cache and sends only the difference to the kernel: no dump of 15,000 objects to
// add one peer. A resync (`observe`) dumps what tartan owns and repairs any drift
// no event announced; the first call after start always observes, which is how
// routes of peers that left while tartan was down get removed (flannel #2554).
import type { Family } from '../net/cidr.ts';
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
}

export interface ReconcileRequest {
  readonly desired: PlanInput['desired'];
  /** Route destinations whose current objects stay although not desired (see PlanInput). */
  readonly retainDsts?: ReadonlySet<string> | undefined;
  /** Keys that may have changed since the last call (see PlanInput.scope); ignored when observing. */
  readonly scope?: ReadonlySet<string> | undefined;
  /** Dump the kernel first instead of trusting the last-applied cache. */
  readonly observe?: boolean | undefined;
  readonly signal?: AbortSignal | undefined;
}

export interface ReconcileOutcome {
  readonly observed: boolean;
  /** Every change sent to the kernel, in order. */
  readonly changes: readonly Change[];
  /** The subset the kernel refused; all other changes are in place. */
  readonly failed: readonly FailedChange[];
}

/** Some objects could not be programmed; everything else was. Retried on the next call. */
export class KernelApplyError extends Error {
  readonly failed: readonly FailedChange[];
  constructor(failed: readonly FailedChange[]) {
    const shown = failed.slice(0, 5).map(describeFailure).join('; ');
    super(`${failed.length} kernel change(s) failed: ${shown}${failed.length > 5 ? '; …' : ''}`);
    this.name = 'KernelApplyError';
    this.failed = failed;
  }
}

export class KernelReconciler {
  readonly #opts: KernelReconcilerOptions;
  readonly #io: KernelIo;
  #applied = new Map<string, KernelObject>();
  /** Keys the kernel refused last time: always in scope, so an event retries them. */
  #retry = new Set<string>();
  #mustObserve = true;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(opts: KernelReconcilerOptions) {
    this.#opts = opts;
    this.#io = opts.io ?? realIo;
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
      : this.#retry.size === 0 ? req.scope : new Set([...req.scope, ...this.#retry]);
    const changes = planChanges({ desired: req.desired, observed: this.#applied, retainDsts: req.retainDsts, scope });
    let result: ApplyResult = { failed: [] };
    if (changes.length > 0) {
      try {
        result = await this.#io.apply(changes, { netns, signal: req.signal });
      } catch (err) {
        this.#mustObserve = true;
        throw err;
      }
    }
    this.#remember(changes, result.failed);
    this.#mustObserve = false;
    return { observed, changes, failed: result.failed };
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
    this.#retry = new Set(failed.map((f) => f.change.key));
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
