// Which leases' hosts are in this provider's network, cached so a steady state
// costs no describe calls: known hosts stay known until their route turns
// blackhole, a write to them fails, or their lease names another instance;
// hosts found outside are asked again after `negativeTtlMs`.
import { errorMessage } from '../errors.ts';
import type { Lease } from '../lease/lease.ts';
import type { Logger } from '../observe/log.ts';
import type { Clock } from '../util/time.ts';
import { type HostRef, type NextHop, type RouteEntry, type RouteTableWriter, canPrepareHosts, sameNextHop, targetNames } from '../../providers/route-table.ts';
import { hostRef } from './observe.ts';

export interface HostResolverOptions {
  readonly provider: RouteTableWriter;
  readonly clock: Clock;
  readonly negativeTtlMs: number;
  readonly log: Logger;
}

export class HostResolver {
  readonly #o: HostResolverOptions;
  readonly #known = new Map<string, NextHop>();
  readonly #outside = new Map<string, number>();
  readonly #prepared = new Set<string>();

  constructor(opts: HostResolverOptions) {
    this.#o = opts;
  }

  async resolve(leases: readonly Lease[], blackholed: readonly RouteEntry[], signal: AbortSignal): Promise<ReadonlyMap<string, NextHop>> {
    this.forget(blackholed.flatMap(targetNames));
    const now = this.#o.clock.now();
    // Keyed by address and published instance id: a host that comes back with a new
    // InstanceID (Alibaba resolves by it) is looked up again, not served from the cache.
    const refs = new Map(leases.map((l): [string, HostRef] => {
      const ref = hostRef(l);
      return [hostKey(ref), ref];
    }));
    for (const key of this.#known.keys()) if (!refs.has(key)) this.#known.delete(key);
    for (const key of this.#outside.keys()) if (!refs.has(key)) this.#outside.delete(key);
    const ask = new Map<string, HostRef>();
    for (const [key, ref] of refs) {
      if (this.#known.has(key)) continue;
      const since = this.#outside.get(key);
      if (since !== undefined && now - since < this.#o.negativeTtlMs) continue;
      ask.set(key, ref);
    }
    if (ask.size > 0) {
      const found = await this.#o.provider.resolveHosts([...ask.values()], signal);
      for (const [key, ref] of ask) {
        const hop = found.get(ref.publicIp);
        if (hop) {
          this.#known.set(key, hop);
          this.#outside.delete(key);
        } else this.#outside.set(key, now);
      }
      await this.#prepare([...found.values()], signal);
    }
    const out = new Map<string, NextHop>();
    for (const [key, ref] of refs) {
      const hop = this.#known.get(key);
      if (hop) out.set(ref.publicIp, hop);
    }
    return out;
  }

  /** These next hops are gone or refused (blackhole route, failed write): their hosts are looked up again. */
  forget(hops: readonly NextHop[]): void {
    if (hops.length === 0) return;
    for (const [key, hop] of this.#known) if (hops.some((h) => sameNextHop(h, hop))) this.#known.delete(key);
  }

  /** AWS: SourceDestCheck off; GCE: report instances without canIpForward. Once per next hop. */
  async #prepare(hops: readonly NextHop[], signal: AbortSignal): Promise<void> {
    const provider = this.#o.provider;
    const fresh = hops.filter((h) => !this.#prepared.has(`${h.kind}:${h.id}`));
    if (fresh.length === 0 || !canPrepareHosts(provider)) return;
    try {
      for (const p of await provider.prepareHosts(fresh, signal)) {
        if (p.result !== 'unfixable') this.#prepared.add(`${p.nextHop.kind}:${p.nextHop.id}`);
        if (p.result === 'changed') this.#o.log.info({ nextHop: p.nextHop.id }, 'prepared host to forward pod traffic');
        if (p.result === 'unfixable') this.#o.log.warn({ nextHop: p.nextHop.id, reason: p.reason }, 'host cannot forward pod traffic');
      }
    } catch (err) {
      if (signal.aborted) throw err;
      this.#o.log.warn({ err: errorMessage(err) }, 'host preparation failed; will retry');
    }
  }
}

function hostKey(ref: HostRef): string {
  return `${ref.publicIp} ${ref.instanceId ?? ''}`;
}
