// The one lease validator. Every lease is written by another host (or a person,
// or anyone holding a node's credentials), so nothing acts on one that has not
// passed here: agents, the controller and the audit each validate their view with
// the same rules, so they agree on what is invalid.
//
// Rules (IPv4 and IPv6 alike):
//   1. canonical key text (decimal octets without leading zeros, flannel's IPv6 form);
//   2. shape: prefix length = SubnetLen (or, for Kubernetes podCIDRs, no shorter than
//      the Network's), inside Network / IPv6Network;
//   3. no overlap, and no PublicIP(v6) shared by two leases (one host, one lease): the
//      older lease (lower create revision) wins; the reader's own lease always;
//   4. PublicIP(v6) a unicast address of the right family, not the reader's own on
//      another lease; VtepMAC unicast and non-zero; VNI / Port as the config says;
//   5. (reader) no overlap with the reader's underlay (directly connected) networks.
// An invalid lease is never normalised into another subnet: it is set aside, whole.
import ipaddr from 'ipaddr.js';
import { InvalidInputError } from '../errors.ts';
import { type NetworkConfig, type SubnetPool, backendOption } from '../config/network.ts';
import { type Cidr, type Family, contains, formatCidr, overlaps, parseIp } from '../net/cidr.ts';
import type { JsonValue } from '../util/json.ts';
import { type Lease, backendField, subnetKey } from './lease.ts';

/** Low-cardinality reason codes: the `reason` label of tartan_invalid_leases. */
export const INVALID_REASONS = [
  'key', 'prefix-length', 'outside-network', 'no-ipv6-network', 'overlap', 'underlay', 'public-ip', 'own-address', 'public-ip-taken', 'vtep-mac', 'vni', 'port',
] as const;
export type InvalidReason = (typeof INVALID_REASONS)[number];

export interface InvalidLease {
  readonly key: string;
  readonly reason: InvalidReason;
  /** One sentence naming the field and the value. */
  readonly message: string;
  /** What the lease would have been, had it been valid (subnets, PublicIP, backend). */
  readonly would: { readonly subnet: string; readonly ipv6Subnet?: string | undefined; readonly publicIp: string; readonly backendType: string };
}

export interface ReaderContext {
  /** The reading host's own lease key: exempt from the own-address rule, and wins every overlap. */
  readonly ownKey?: string | undefined;
  /** The reading host's own addresses (canonical text): no other lease may claim one as its PublicIP. */
  readonly addresses?: ReadonlySet<string> | undefined;
  /** The networks the reading host's external interface is directly connected to. */
  readonly underlay?: readonly Cidr[] | undefined;
}

export interface ValidatorOptions {
  readonly config: NetworkConfig;
  /** `exact` (etcd: SubnetLen) or `at-least-network` (Kubernetes podCIDRs). */
  readonly prefixRule?: 'exact' | 'at-least-network' | undefined;
  readonly reader?: ReaderContext | undefined;
}

export interface LeaseView {
  readonly valid: Lease[];
  readonly invalid: InvalidLease[];
  /** Invalid leases that are new or whose reason changed since the last call: log these, once. */
  readonly changed: InvalidLease[];
}

/**
 * Validates whole lease sets. Per-lease verdicts are remembered by lease identity
 * (leases are immutable; a changed lease is a new object), so a pass over 5,000
 * unchanged leases costs a map lookup each plus the overlap check.
 */
export class LeaseValidator {
  readonly #o: ValidatorOptions;
  readonly #vni: number | undefined;
  readonly #port: number | undefined;
  readonly #verdicts = new WeakMap<Lease, Verdict>();
  #reported = new Map<string, string>();

  constructor(opts: ValidatorOptions) {
    this.#o = opts;
    const type = opts.config.backend.type;
    const vxlanLike = type === 'vxlan' || ((type === 'aws-vpc' || type === 'gce' || type === 'ali-vpc') && (backendOption(opts.config.backend, 'Fallback') ?? 'vxlan') === 'vxlan');
    this.#vni = vxlanLike ? wholeOr(backendOption(opts.config.backend, 'VNI'), 1) : undefined;
    this.#port = vxlanLike ? wholeOr(backendOption(opts.config.backend, 'Port'), undefined) : undefined;
  }

  validate(leases: readonly Lease[]): LeaseView {
    const invalid: InvalidLease[] = [];
    const shaped: Shaped[] = [];
    for (const lease of leases) {
      let verdict = this.#verdicts.get(lease);
      if (verdict === undefined) {
        const bad = this.#check(lease);
        verdict = bad ?? { lease, hosts: hostsOf(lease) };
        this.#verdicts.set(lease, verdict);
      }
      if ('reason' in verdict) invalid.push(verdict);
      else shaped.push(verdict);
    }
    const { valid, overlapping } = resolveOverlaps(shaped, this.#o.reader?.ownKey);
    invalid.push(...overlapping);
    invalid.sort((a, b) => cmp(a.key, b.key));
    return { valid, invalid, changed: this.#changed(invalid) };
  }

  /** One lease on its own (rules 1, 2, 4, 5); undefined when it passes. */
  #check(lease: Lease): InvalidLease | undefined {
    const bad = (reason: InvalidReason, message: string): InvalidLease => ({ key: lease.key, reason, message: `lease ${lease.key}: ${message}`, would: wouldBe(lease) });
    const canonical = lease.ipv6Subnet === undefined && V4_KEY.test(lease.key) ? lease.key : subnetKey(lease.subnet, lease.ipv6Subnet);
    if (lease.key !== canonical) return bad('key', `the key is not in canonical form (decimal octets without leading zeros; it would read as ${canonical})`);
    const { config } = this.#o;
    const shape = (config.ipv4 && this.#shape(lease.subnet, config.ipv4)) ||
      (lease.ipv6Subnet && (config.ipv6 ? this.#shape(lease.ipv6Subnet, config.ipv6) : { reason: 'no-ipv6-network' as const, message: `has an IPv6 subnet ${formatCidr(lease.ipv6Subnet)}, but the network config has no IPv6Network` }));
    if (shape) return bad(shape.reason, shape.message);
    const underlay = this.#o.reader?.underlay?.find((n) => overlaps(n, lease.subnet) || (lease.ipv6Subnet !== undefined && overlaps(n, lease.ipv6Subnet)));
    if (underlay && lease.key !== this.#o.reader?.ownKey) return bad('underlay', `overlaps this host's underlay network ${formatCidr(underlay)}`);
    const ip = this.#publicIps(lease);
    if (ip) return bad(ip.reason, ip.message);
    const data = this.#backendData(lease);
    if (data) return bad(data.reason, data.message);
    return undefined;
  }

  #shape(subnet: Cidr, pool: SubnetPool): { reason: InvalidReason; message: string } | undefined {
    const name = subnet.family === 4 ? 'SubnetLen' : 'IPv6SubnetLen';
    const network = subnet.family === 4 ? 'Network' : 'IPv6Network';
    if (this.#o.prefixRule === 'at-least-network' ? subnet.prefix < pool.network.prefix : subnet.prefix !== pool.subnetLen) {
      const want = this.#o.prefixRule === 'at-least-network' ? `no shorter than ${network} /${pool.network.prefix}` : `${name} ${pool.subnetLen}`;
      return { reason: 'prefix-length', message: `subnet ${formatCidr(subnet)} has prefix length ${subnet.prefix}, but the config says ${want}` };
    }
    if (!contains(pool.network, subnet)) return { reason: 'outside-network', message: `subnet ${formatCidr(subnet)} is outside ${network} ${formatCidr(pool.network)}` };
    return undefined;
  }

  #publicIps(lease: Lease): { reason: InvalidReason; message: string } | undefined {
    const own = this.#o.reader?.ownKey === lease.key;
    const checks: Array<[string, string | undefined, Family]> = [['PublicIP', lease.attrs.publicIp, 4]];
    if (lease.ipv6Subnet || lease.attrs.publicIpv6) checks.push(['PublicIPv6', lease.attrs.publicIpv6, 6]);
    for (const [field, text, family] of checks) {
      if (text === undefined || text === '') {
        if (family === 6 && lease.ipv6Subnet === undefined) continue;
        return { reason: 'public-ip', message: `${field} is missing` };
      }
      const problem = unicastProblem(text, family);
      if (problem) return { reason: 'public-ip', message: `${field} ${text} ${problem}` };
      if (!own && this.#o.reader?.addresses?.has(canonicalIp(text))) {
        return { reason: 'own-address', message: `${field} ${text} is an address of this host, which holds another lease` };
      }
    }
    return undefined;
  }

  #backendData(lease: Lease): { reason: InvalidReason; message: string } | undefined {
    if (lease.attrs.backendType !== 'vxlan') return undefined;
    const parts: Array<[string, JsonValue | undefined]> = [['BackendData', lease.attrs.backendData]];
    if (lease.ipv6Subnet && this.#o.config.ipv6) parts.push(['BackendV6Data', lease.attrs.backendV6Data]);
    for (const [field, data] of parts) {
      const mac = backendField(data, 'VtepMAC');
      if (typeof mac !== 'string' || !isUnicastNonZeroMac(mac)) {
        return { reason: 'vtep-mac', message: `${field}.VtepMAC ${JSON.stringify(mac ?? null)} is not a unicast, non-zero MAC address` };
      }
      const vni = backendField(data, 'VNI');
      if (vni !== undefined && vni !== null && this.#vni !== undefined && vni !== this.#vni) {
        return { reason: 'vni', message: `${field}.VNI ${JSON.stringify(vni)} is not this network's VNI ${this.#vni}` };
      }
      const port = backendField(data, 'Port');
      if (port !== undefined && port !== null && this.#port !== undefined && port !== this.#port) {
        return { reason: 'port', message: `${field}.Port ${JSON.stringify(port)} is not this network's Port ${this.#port}` };
      }
    }
    return undefined;
  }

  #changed(invalid: readonly InvalidLease[]): InvalidLease[] {
    const next = new Map(invalid.map((i) => [i.key, i.message]));
    const changed = invalid.filter((i) => this.#reported.get(i.key) !== i.message);
    this.#reported = next;
    return changed;
  }
}

/**
 * Start-up rule: a cluster Network that overlaps a network the host's external
 * interface is on would make peers' routes shadow the underlay (the path to etcd
 * and to every peer). Refused before anything is programmed, naming both.
 */
export function assertNetworkClearOfUnderlay(config: NetworkConfig, underlay: readonly Cidr[], dev: string): void {
  for (const pool of [config.ipv4, config.ipv6]) {
    if (!pool) continue;
    const hit = underlay.find((n) => overlaps(n, pool.network));
    if (hit) {
      const field = pool.family === 4 ? 'Network' : 'IPv6Network';
      throw new InvalidInputError(field, formatCidr(pool.network), `overlaps ${formatCidr(hit)}, a network of this host's external interface ${dev}; pod routes would shadow the underlay`);
    }
  }
}

/**
 * Where leases set aside keep whatever tartan already has (fail static): their
 * subnets, except for a non-canonical key, whose parsed subnet is not the one its
 * writer meant (100.96.050.0 reads as 100.96.40.0, another host's subnet).
 */
export function heldDestinations(invalid: readonly InvalidLease[]): string[] {
  return invalid.filter((i) => i.reason !== 'key').flatMap((i) => (i.would.ipv6Subnet ? [i.would.subnet, i.would.ipv6Subnet] : [i.would.subnet]));
}

/** A lease that passed the per-lease rules, with its hosts' addresses in canonical text (computed once). */
interface Shaped {
  readonly lease: Lease;
  readonly hosts: readonly string[];
}

type Verdict = InvalidLease | Shaped;

function hostsOf(lease: Lease): string[] {
  const out = [lease.attrs.publicIp];
  if (lease.attrs.publicIpv6 !== undefined && lease.attrs.publicIpv6 !== '') out.push(canonicalIp(lease.attrs.publicIpv6));
  return out;
}

/**
 * Rule 3: the reader's own lease first, then by age (create revision, then key); a
 * lease overlapping an accepted one, or claiming an accepted lease's PublicIP, is invalid.
 */
function resolveOverlaps(shaped: readonly Shaped[], ownKey: string | undefined): { valid: Lease[]; overlapping: InvalidLease[] } {
  const order = [...shaped].sort((a, b) => rank(a.lease, ownKey) - rank(b.lease, ownKey) || cmp(a.lease.key, b.lease.key));
  const accepted = new PrefixIndex();
  const hosts = new Map<string, string>();
  const valid: Lease[] = [];
  const overlapping: InvalidLease[] = [];
  for (const { lease, hosts: ips } of order) {
    const other = accepted.overlapping(lease.subnet) ?? (lease.ipv6Subnet ? accepted.overlapping(lease.ipv6Subnet) : undefined);
    if (other !== undefined) {
      overlapping.push({ key: lease.key, reason: 'overlap', message: `lease ${lease.key}: overlaps ${other}, which is older`, would: wouldBe(lease) });
      continue;
    }
    const holder = hosts.get(ips[0]!) ?? (ips.length > 1 ? hosts.get(ips[1]!) : undefined);
    if (holder !== undefined) {
      overlapping.push({
        key: lease.key, reason: 'public-ip-taken', would: wouldBe(lease),
        message: `lease ${lease.key}: its PublicIP is already the PublicIP of ${holder}, which is older (one host holds one lease)`,
      });
      continue;
    }
    accepted.add(lease.subnet, lease.key);
    if (lease.ipv6Subnet) accepted.add(lease.ipv6Subnet, lease.key);
    for (const ip of ips) hosts.set(ip, lease.key);
    valid.push(lease);
  }
  return { valid, overlapping };
}

function rank(lease: Lease, ownKey: string | undefined): number {
  return lease.key === ownKey ? -1 : lease.createdRevision ?? Number.MAX_SAFE_INTEGER;
}

/** Accepted prefixes by family and length: exact lookups for the common case (one length), a scan only below it. */
class PrefixIndex {
  readonly #byLength: Record<Family, Map<number, Map<bigint, string>>> = { 4: new Map(), 6: new Map() };

  add(p: Cidr, key: string): void {
    const lengths = this.#byLength[p.family];
    let m = lengths.get(p.prefix);
    if (!m) lengths.set(p.prefix, (m = new Map<bigint, string>()));
    m.set(p.addr, key);
  }

  overlapping(p: Cidr): string | undefined {
    for (const [len, m] of this.#byLength[p.family]) {
      if (len === p.prefix) {
        const hit = m.get(p.addr);
        if (hit !== undefined) return hit;
      } else if (len < p.prefix) {
        const hit = m.get(maskTo(p, len));
        if (hit !== undefined) return hit;
      } else {
        for (const [addr, key] of m) if (overlaps(p, { family: p.family, addr, prefix: len })) return key;
      }
    }
    return undefined;
  }
}

function maskTo(p: Cidr, len: number): bigint {
  const bits = p.family === 4 ? 32 : 128;
  return (p.addr >> BigInt(bits - len)) << BigInt(bits - len);
}

/** A canonical IPv4 key (a key that parsed and matches this is the canonical text of its subnet). */
const V4_KEY = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}-(3[0-2]|[12]?\d)$/;

const REFUSED_RANGES: Readonly<Record<string, string>> = {
  unspecified: 'is unspecified', loopback: 'is a loopback address', multicast: 'is a multicast address',
  broadcast: 'is the broadcast address', linkLocal: 'is link-local',
};

/** Why an address cannot be a host's PublicIP, or undefined when it can. */
const DOTTED = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** IPv4 in canonical dotted decimal, by arithmetic (the common case, 5,000 times at a cold start). */
function v4Problem(m: RegExpExecArray): string | undefined {
  const [a, b, c, d] = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])];
  if (a === 0) return REFUSED_RANGES.unspecified;
  if (a === 127) return REFUSED_RANGES.loopback;
  if (a >= 224 && a <= 239) return REFUSED_RANGES.multicast;
  if (a === 255 && b === 255 && c === 255 && d === 255) return REFUSED_RANGES.broadcast;
  if (a === 169 && b === 254) return REFUSED_RANGES.linkLocal;
  return undefined;
}

function unicastProblem(text: string, family: Family): string | undefined {
  const m = family === 4 ? DOTTED.exec(text) : null;
  if (m) return v4Problem(m);
  if (!ipaddr.isValid(text)) return 'is not an IP address';
  const ip = ipaddr.parse(text);
  if ((ip.kind() === 'ipv4' ? 4 : 6) !== family) return `is not an IPv${family} address`;
  if (family === 4 && !/^(0|[1-9]\d{0,2})(\.(0|[1-9]\d{0,2})){3}$/.test(text)) return 'is not in canonical dotted-decimal form';
  const range = ip.range();
  return REFUSED_RANGES[range];
}

function canonicalIp(text: string): string {
  if (DOTTED.test(text)) return text; // canonical IPv4 already: no parse (5,000 times at a cold start)
  try {
    const { family, addr } = parseIp(text);
    return family === 4 ? text : `${family}:${addr}`;
  } catch {
    return text;
  }
}

/** Canonical text of an address, as ReaderContext.addresses wants it. */
export function readerAddress(text: string): string {
  return canonicalIp(text);
}

function isUnicastNonZeroMac(text: string): boolean {
  const m = /^([0-9a-f]{2})(:[0-9a-f]{2}){5}$/i.exec(text);
  if (!m) return false;
  if (/^(00:){5}00$/i.test(text)) return false;
  return (parseInt(m[1]!, 16) & 1) === 0;
}

function wholeOr<T extends number | undefined>(value: JsonValue | undefined, fallback: T): number | T {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : fallback;
}

function wouldBe(lease: Lease): InvalidLease['would'] {
  return {
    subnet: formatCidr(lease.subnet),
    ipv6Subnet: lease.ipv6Subnet ? formatCidr(lease.ipv6Subnet) : undefined,
    publicIp: lease.attrs.publicIp,
    backendType: lease.attrs.backendType,
  };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
