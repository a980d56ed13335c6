// The agent half of the shared reconcile loop (flannel's route_network.go, once):
// peer leases → desired kernel objects → KernelReconciler. A backend only says
// which objects one lease needs; this file decides which leases count, skips the
// bad ones without hurting the rest, and logs each problem once, not per resync.
import type { Lease } from '../../lease/lease.ts';
import type { Cidr } from '../../net/cidr.ts';
import type { Logger } from '../../observe/log.ts';
import { type FailedChange, KernelApplyError, type KernelReconciler, countChanges, describeFailure } from '../../kernel/index.ts';
import { DesiredObjects, type PeerContribution } from './desired.ts';
import { type PeerRules, judgePeer } from './peer.ts';

export type { PeerObjects } from './peer.ts';

export interface PeerLoopOptions extends PeerRules {
  readonly log: Logger;
  /** The kernel side (KernelReconciler); only its reconcile() is used. */
  readonly reconciler: Pick<KernelReconciler, 'reconcile'>;
  /** Prefixes no peer route may overlap: this host's own subnets and underlay networks (the kernel layer refuses them). */
  readonly forbidden?: (() => readonly Cidr[]) | undefined;
}

export class PeerLoop {
  readonly #opts: PeerLoopOptions;
  /** Remembers each lease's contribution by lease identity: an unchanged lease is not looked at again. */
  readonly #desired = new DesiredObjects();
  /** What was last logged per lease key and topic, so a problem is logged once, not on every resync. */
  readonly #logged = new Map<string, string>();
  #recomputeAll = false;
  /** How often each change was refused in a row (logged at the 1st, 4th, 16th … refusal, not at every retry). */
  readonly #refused = new Map<string, number>();

  constructor(opts: PeerLoopOptions) {
    this.#opts = opts;
  }

  /** Look at every lease again on the next call (what a lease needs changed, e.g. the host's connected networks). */
  forgetPeers(): void {
    this.#recomputeAll = true;
  }

  /**
   * Only leases that changed since the last call (by identity) are looked at again;
   * `observe` (a resync) compares every desired object with a fresh kernel dump.
   */
  async reconcile(peers: readonly Lease[], signal: AbortSignal, observe: boolean, held: readonly string[] = []): Promise<void> {
    const update = this.#desired.update(peers, (lease) => this.#contribution(lease), { all: this.#recomputeAll, retryClashes: observe });
    this.#recomputeAll = false;
    for (const key of update.removed) this.#forgetLogs(key);
    for (const { lease, other } of update.clashes) {
      this.#once(`${lease} clash`, other, () =>
        this.#opts.log.warn({ lease, other }, 'skipping peer: it needs kernel objects another peer already has (same VtepMAC or subnet address)'));
    }
    const outcome = await this.#opts.reconciler.reconcile({
      desired: this.#desired.objects, retainDsts: this.#desired.retainDsts(held), scope: update.touched, observe, signal,
      forbidden: this.#opts.forbidden?.(),
    });
    if (outcome.changes.length > 0) {
      this.#opts.log.info({ ...countChanges(outcome.changes), failed: outcome.failed.length, observed: outcome.observed }, 'programmed peers');
    }
    this.#countRefusals(outcome.changes, outcome.failed);
    if (outcome.failed.length > 0 || outcome.deferred > 0) throw new KernelApplyError(outcome.failed, outcome.deferred);
  }

  /** Logs a refused change once, then again at every 4× more refusals with the count; forgets it once it goes through. */
  #countRefusals(sent: readonly { readonly key: string }[], failed: readonly FailedChange[]): void {
    for (const c of sent) this.#refused.delete(c.key);
    for (const f of failed) {
      const n = (this.#refused.get(f.change.key) ?? 0) + 1;
      this.#refused.set(f.change.key, n);
      if ((n & (n - 1)) === 0 && Math.log2(n) % 2 === 0) this.#opts.log.warn({ change: describeFailure(f), refusals: n }, 'the kernel refused a change; retrying with backoff');
    }
  }

  /** What one lease adds to the desired set (judgePeer), logging (once) why it adds nothing or less than it should. */
  #contribution(lease: Lease): PeerContribution {
    const verdict = judgePeer(lease, this.#opts);
    if (verdict.kind === 'own') return NOTHING;
    if (verdict.kind === 'other-type') {
      this.#once(`${lease.key} type`, lease.attrs.backendType, () =>
        this.#opts.log.info({ lease: lease.key, backendType: lease.attrs.backendType }, `ignoring a peer whose BackendType is not ${this.#opts.backendType}`));
      return NOTHING;
    }
    const { problems } = verdict;
    if (problems.length > 0) {
      this.#once(`${lease.key} data`, problems.map((p) => p.message).join('; '), () => {
        for (const p of problems) this.#opts.log.warn({ lease: lease.key, field: p.field, value: p.value }, `skipping peer: ${p.message}`);
      });
    } else {
      this.#logged.delete(`${lease.key} data`);
    }
    return verdict.contribution;
  }

  /** Runs `log` unless the same note was logged under this key (lease key + topic) before. */
  #once(key: string, note: string, log: () => void): void {
    if (this.#logged.get(key) === note) return;
    this.#logged.set(key, note);
    log();
  }

  #forgetLogs(leaseKey: string): void {
    for (const topic of ['type', 'data', 'clash']) this.#logged.delete(`${leaseKey} ${topic}`);
  }
}

const NOTHING: PeerContribution = { entries: [], retain: [] };
