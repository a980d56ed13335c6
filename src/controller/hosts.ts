// Which leases' hosts are in this provider's network, cached so a steady state
// costs no describe calls: known hosts stay known until their route turns
// blackhole; hosts found outside are asked again after `negativeTtlMs`.
import { errorMessage } from '../errors.ts';
import { type Lease, backendField } from '../lease/lease.ts';
import { INSTANCE_ID_FIELD } from '../agent/path.ts';
import type { Logger } from '../observe/log.ts';
import type { Clock } from '../util/time.ts';
import { type HostRef, type NextHop, type RouteEntry, type RouteTableWriter, canPrepareHosts, sameNextHop } from '../../providers/route-table.ts';

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
    for (const [ip, hop] of this.#known) if (blackholed.some((r) => sameNextHop(r.nextHop, hop))) this.#known.delete(ip);
    const now = this.#o.clock.now();
    const ask = new Map<string, HostRef>();
    for (const l of leases) {
      const ip = l.attrs.publicIp;
      if (this.#known.has(ip) || ask.has(ip)) continue;
      const since = this.#outside.get(ip);
      if (since !== undefined && now - since < this.#o.negativeTtlMs) continue;
      const instanceId = backendField(l.attrs.backendData, INSTANCE_ID_FIELD);
      ask.set(ip, { publicIp: ip, instanceId: typeof instanceId === 'string' ? instanceId : undefined });
    }
    if (ask.size > 0) {
      const found = await this.#o.provider.resolveHosts([...ask.values()], signal);
      for (const ip of ask.keys()) {
        const hop = found.get(ip);
        if (hop) {
          this.#known.set(ip, hop);
          this.#outside.delete(ip);
        } else this.#outside.set(ip, now);
      }
      await this.#prepare([...found.values()], signal);
    }
    const out = new Map<string, NextHop>();
    for (const l of leases) {
      const hop = this.#known.get(l.attrs.publicIp);
      if (hop) out.set(l.attrs.publicIp, hop);
    }
    return out;
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
