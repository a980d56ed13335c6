// The agent half of the shared reconcile loop (flannel's route_network.go, once):
// peer leases → desired kernel objects → KernelReconciler. A backend only says
// which objects one lease needs; this file decides which leases count, skips the
// bad ones without hurting the rest, and logs each problem once, not per resync.
import { InvalidInputError, errorMessage } from '../../errors.ts';
import type { Lease } from '../../lease/lease.ts';
import { type Cidr, type Family, equalCidr, formatIp, parseIp } from '../../net/cidr.ts';
import type { Logger } from '../../observe/log.ts';
import {
  KernelApplyError, type KernelObject, type KernelReconciler, countChanges, describeFailure, objectKey, prefixText,
} from '../../kernel/index.ts';
import { DesiredObjects, type PeerContribution } from './desired.ts';

/** What one peer lease needs. `problems` name the lease field that was unusable (one per family at most). */
export interface PeerObjects {
  readonly objects: readonly KernelObject[];
  readonly problems: readonly InvalidInputError[];
}

export interface PeerLoopOptions {
  readonly backendType: string;
  readonly log: Logger;
  /** The kernel side (KernelReconciler); only its reconcile() is used. */
  readonly reconciler: Pick<KernelReconciler, 'reconcile'>;
  /** Pure: the objects one peer needs. Throwing InvalidInputError counts as a problem with that lease. */
  readonly objectsFor: (lease: Lease) => PeerObjects;
  /** This host's own subnets: a lease for them is never a peer, even if passed by mistake. */
  readonly own: { readonly subnet: Cidr; readonly ipv6Subnet?: Cidr | undefined };
}

export class PeerLoop {
  readonly #opts: PeerLoopOptions;
  /** Remembers each lease's contribution by lease identity: an unchanged lease is not looked at again. */
  readonly #desired = new DesiredObjects();
  /** What was last logged per lease key and topic, so a problem is logged once, not on every resync. */
  readonly #logged = new Map<string, string>();
  #recomputeAll = false;

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
  async reconcile(peers: readonly Lease[], signal: AbortSignal, observe: boolean): Promise<void> {
    const update = this.#desired.update(peers, (lease) => this.#contribution(lease), { all: this.#recomputeAll, retryClashes: observe });
    this.#recomputeAll = false;
    for (const key of update.removed) this.#forgetLogs(key);
    for (const { lease, other } of update.clashes) {
      this.#once(`${lease} clash`, other, () =>
        this.#opts.log.warn({ lease, other }, 'skipping peer: it needs kernel objects another peer already has (same VtepMAC or subnet address)'));
    }
    const outcome = await this.#opts.reconciler.reconcile({
      desired: this.#desired.objects, retainDsts: this.#desired.retainDsts(), scope: update.touched, observe, signal,
    });
    if (outcome.changes.length > 0) {
      this.#opts.log.info({ ...countChanges(outcome.changes), failed: outcome.failed.length, observed: outcome.observed }, 'programmed peers');
    }
    if (outcome.failed.length > 0) {
      for (const f of outcome.failed.slice(0, 20)) this.#opts.log.warn({ change: describeFailure(f) }, 'the kernel refused a change');
      throw new KernelApplyError(outcome.failed);
    }
  }

  /** What one lease adds to the desired set, logging (once) why it adds nothing or less than it should. */
  #contribution(lease: Lease): PeerContribution {
    if (this.#isOwn(lease)) return NOTHING;
    if (lease.attrs.backendType !== this.#opts.backendType) {
      this.#once(`${lease.key} type`, lease.attrs.backendType, () =>
        this.#opts.log.info({ lease: lease.key, backendType: lease.attrs.backendType }, `ignoring a peer whose BackendType is not ${this.#opts.backendType}`));
      return NOTHING;
    }
    const { objects, problems } = this.#objectsOf(lease);
    if (problems.length > 0) {
      this.#once(`${lease.key} data`, problems.map((p) => p.message).join('; '), () => {
        for (const p of problems) this.#opts.log.warn({ lease: lease.key, field: p.field, value: p.value }, `skipping peer: ${p.message}`);
      });
    } else {
      this.#logged.delete(`${lease.key} data`);
    }
    return {
      entries: objects.map((o) => [objectKey(o), o] as const),
      // Fail static: whatever already works for a lease we cannot fully read stays.
      retain: problems.length === 0 ? [] : [prefixText(lease.subnet), ...(lease.ipv6Subnet ? [prefixText(lease.ipv6Subnet)] : [])],
    };
  }

  #objectsOf(lease: Lease): PeerObjects {
    try {
      return this.#opts.objectsFor(lease);
    } catch (err) {
      const problem = err instanceof InvalidInputError ? err : new InvalidInputError(`lease ${lease.key}`, undefined, errorMessage(err));
      return { objects: [], problems: [problem] };
    }
  }

  #isOwn(lease: Lease): boolean {
    const own = this.#opts.own;
    return equalCidr(lease.subnet, own.subnet) ||
      (lease.ipv6Subnet !== undefined && own.ipv6Subnet !== undefined && equalCidr(lease.ipv6Subnet, own.ipv6Subnet));
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
const DOTTED_QUAD = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** The peer's PublicIP (v4) or PublicIPv6, checked and in canonical text. */
export function peerAddress(lease: Lease, family: Family): string {
  const text = family === 4 ? lease.attrs.publicIp : lease.attrs.publicIpv6;
  const field = `lease ${lease.key}.${family === 4 ? 'PublicIP' : 'PublicIPv6'}`;
  if (text === undefined || text === '') throw new InvalidInputError(field, text, `is required for an IPv${family} peer`);
  if (family === 4 && DOTTED_QUAD.test(text)) return text; // the common case, without a bigint
  const ip = parseIp(text, field);
  if (ip.family !== family) throw new InvalidInputError(field, text, `must be an IPv${family} address`);
  return family === 4 ? text : formatIp(6, ip.addr);
}
