// Which instance or interface carries a host's address, learned with one paged
// DescribeInstances per 200 addresses and reused for a short while.
import { formatIp, parseIp } from '../../src/net/cidr.ts';
import type { Logger } from '../../src/observe/log.ts';
import type { Clock } from '../../src/util/time.ts';
import type { HostRef, NextHop } from '../route-table.ts';
import type { Ec2Api, Ec2Filter, Ec2Instance } from './api.ts';
import type { Caller } from './caller.ts';

/** EC2 accepts up to 200 values per filter. */
export const FILTER_CHUNK = 200;

export interface HostDirectoryParts {
  readonly api: Ec2Api;
  readonly caller: Caller;
  readonly clock: Clock;
  readonly ttlMs: number;
  readonly vpcId: string | undefined;
  readonly logger: Logger;
}

interface Cached<T> { readonly value: T; readonly at: number }

export class HostDirectory {
  readonly #p: HostDirectoryParts;
  readonly #byIp = new Map<string, Cached<NextHop | undefined>>();
  readonly #instances = new Map<string, Cached<Ec2Instance>>();

  constructor(parts: HostDirectoryParts) {
    this.#p = parts;
  }

  async resolve(hosts: readonly HostRef[], signal: AbortSignal): Promise<Map<string, NextHop>> {
    const ipOf = new Map<string, string>();
    for (const h of hosts) {
      const ip = canonicalIpv4(h.publicIp);
      if (ip === undefined) this.#p.logger.debug({ publicIp: h.publicIp }, 'host address is not IPv4; it cannot be a VPC next hop');
      else ipOf.set(h.publicIp, ip);
    }
    const stale = [...new Set(ipOf.values())].filter((ip) => !this.#fresh(this.#byIp.get(ip)));
    for (let i = 0; i < stale.length; i += FILTER_CHUNK) {
      const chunk = stale.slice(i, i + FILTER_CHUNK);
      const instances = await this.describe([
        { name: 'network-interface.addresses.private-ip-address', values: chunk },
        { name: 'instance-state-name', values: ['running'] },
      ], signal);
      const found = hopsByIp(instances, new Set(chunk));
      const at = this.#p.clock.now();
      for (const ip of chunk) this.#byIp.set(ip, { value: found.get(ip), at });
    }
    const out = new Map<string, NextHop>();
    for (const [publicIp, ip] of ipOf) {
      const hop = this.#byIp.get(ip)?.value;
      if (hop) out.set(publicIp, hop);
    }
    return out;
  }

  /** Every instance matching `filters` (paged; restricted to the VPC when one is set); remembered for recent(). */
  async describe(filters: readonly Ec2Filter[], signal: AbortSignal): Promise<Ec2Instance[]> {
    const all = this.#p.vpcId === undefined ? filters : [...filters, { name: 'vpc-id', values: [this.#p.vpcId] }];
    const out: Ec2Instance[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.#p.caller.call('DescribeInstances', signal, () =>
        this.#p.api.describeInstances({ filters: all, maxResults: 1000, nextToken }, signal));
      out.push(...page.items);
      nextToken = page.nextToken;
    } while (nextToken !== undefined);
    const at = this.#p.clock.now();
    for (const i of out) {
      this.#instances.set(i.id, { value: i, at });
    }
    return out;
  }

  /**
   * The instances behind these next hops as a describe within the host TTL saw them
   * (resolve() has just described every host the controller prepares), and the
   * next hops no recent describe covers.
   */
  recent(hops: readonly NextHop[]): { found: Ec2Instance[]; missing: NextHop[] } {
    const byId = new Map<string, Ec2Instance>();
    const byEni = new Map<string, Ec2Instance>();
    for (const c of this.#instances.values()) {
      if (!this.#fresh(c)) continue;
      byId.set(c.value.id, c.value);
      for (const e of c.value.enis) byEni.set(e.id, c.value);
    }
    const found = new Map<string, Ec2Instance>();
    const missing: NextHop[] = [];
    for (const hop of hops) {
      const instance = hop.kind === 'instance' ? byId.get(hop.id) : byEni.get(hop.id);
      if (instance) found.set(instance.id, instance);
      else missing.push(hop);
    }
    return { found: [...found.values()], missing };
  }

  /** After a write that changed an instance (SourceDestCheck), its recent copy is wrong. */
  forgetInstance(instanceId: string): void {
    this.#instances.delete(instanceId);
  }

  #fresh(entry: Cached<unknown> | undefined): boolean {
    return entry !== undefined && this.#p.clock.now() - entry.at < this.#p.ttlMs;
  }
}

/**
 * The next hop for each wanted address: the instance when it has one interface,
 * else the interface that carries the address. Only running instances count.
 */
export function hopsByIp(instances: readonly Ec2Instance[], wanted: ReadonlySet<string>): Map<string, NextHop> {
  const out = new Map<string, NextHop>();
  for (const instance of instances) {
    if (instance.state !== 'running') continue;
    for (const eni of instance.enis) {
      for (const ip of eni.privateIps) {
        if (!wanted.has(ip)) continue;
        out.set(ip, instance.enis.length > 1 ? { kind: 'eni', id: eni.id } : { kind: 'instance', id: instance.id });
      }
    }
  }
  return out;
}

function canonicalIpv4(text: string): string | undefined {
  try {
    const { family, addr } = parseIp(text, 'publicIp');
    return family === 4 ? formatIp(family, addr) : undefined;
  } catch {
    return undefined;
  }
}
