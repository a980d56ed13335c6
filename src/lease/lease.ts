// The subnet lease, exactly as flannel stores it: key `<prefix>/subnets/10.5.52.0-24`
// (dual-stack `10.5.52.0-24&fc00::-64`), value JSON with PublicIP, PublicIPv6,
// BackendType, BackendData, BackendV6Data. Key and value codecs live here and only here.
import { InvalidInputError } from '../errors.ts';
import { type Cidr, formatCidr, formatIp, parseCidr, parseIp } from '../net/cidr.ts';
import type { JsonValue } from '../util/json.ts';

export type { JsonValue };

export interface LeaseAttrs {
  readonly publicIp: string;
  readonly publicIpv6?: string | undefined;
  readonly backendType: string;
  readonly backendData?: JsonValue | undefined;
  readonly backendV6Data?: JsonValue | undefined;
}

export interface Lease {
  /** flannel's subnet key, e.g. `10.5.52.0-24` or `10.5.52.0-24&fc00::-64`. */
  readonly key: string;
  readonly subnet: Cidr;
  readonly ipv6Subnet?: Cidr | undefined;
  readonly attrs: LeaseAttrs;
  /** A key written without an etcd lease: never expires, never taken by another host. */
  readonly reservation: boolean;
  /** Epoch ms when the etcd lease expires, where the store knows it (always for this host's own lease). */
  readonly expiresAt?: number | undefined;
  /** etcd mod revision of the key (0 when not known). */
  readonly revision: number;
  /** etcd create revision: orders leases by age (the newest overflow a full route table). */
  readonly createdRevision?: number | undefined;
}

/** `10.5.52.0/24` (+ `fc00::/64`) → `10.5.52.0-24` (`&fc00::-64`). */
export function subnetKey(subnet: Cidr, ipv6Subnet?: Cidr): string {
  const v4 = formatCidr(subnet).replace('/', '-');
  return ipv6Subnet ? `${v4}&${formatCidr(ipv6Subnet).replace('/', '-')}` : v4;
}

export function parseSubnetKey(key: string): { subnet: Cidr; ipv6Subnet?: Cidr } {
  const [v4, v6, extra] = key.split('&');
  if (v4 === undefined || extra !== undefined) throw new InvalidInputError('lease key', key, 'not a subnet key');
  const subnet = parseKeyPart(v4, key);
  if (subnet.family !== 4) throw new InvalidInputError('lease key', key, 'the first part must be an IPv4 subnet');
  if (v6 === undefined) return { subnet };
  const ipv6Subnet = parseKeyPart(v6, key);
  if (ipv6Subnet.family !== 6) throw new InvalidInputError('lease key', key, 'the part after & must be an IPv6 subnet');
  return { subnet, ipv6Subnet };
}

function parseKeyPart(part: string, key: string): Cidr {
  const dash = part.lastIndexOf('-');
  if (dash < 0) throw new InvalidInputError('lease key', key, 'expected <ip>-<prefix>');
  try {
    return parseCidr(`${part.slice(0, dash)}/${part.slice(dash + 1)}`, 'lease key');
  } catch (err) {
    throw new InvalidInputError('lease key', key, 'not a subnet key', { cause: err });
  }
}

/** Serialises attrs byte-compatibly with flannel's Go json.Marshal of LeaseAttrs. */
export function encodeLeaseAttrs(attrs: LeaseAttrs): string {
  const value: Record<string, JsonValue> = {
    PublicIP: attrs.publicIp,
    PublicIPv6: attrs.publicIpv6 ?? null,
  };
  // Go's `omitempty`: a udp lease (BackendType "") is `{"PublicIP":…,"PublicIPv6":null}`.
  if (attrs.backendType !== '') value.BackendType = attrs.backendType;
  if (attrs.backendData !== undefined) value.BackendData = attrs.backendData;
  if (attrs.backendV6Data !== undefined) value.BackendV6Data = attrs.backendV6Data;
  return JSON.stringify(value);
}

/** Parses a lease value; every error names the key and the field. */
export function decodeLeaseAttrs(key: string, text: string): LeaseAttrs {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new InvalidInputError(`lease ${key}`, text, 'value is not JSON', { cause: err });
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new InvalidInputError(`lease ${key}`, raw, 'value is not a JSON object');
  }
  const obj = raw as Record<string, JsonValue>;
  const publicIp = obj.PublicIP;
  if (typeof publicIp !== 'string') throw new InvalidInputError(`lease ${key}.PublicIP`, publicIp, 'must be an IPv4 address');
  if (parseIp(publicIp, `lease ${key}.PublicIP`).family !== 4) {
    throw new InvalidInputError(`lease ${key}.PublicIP`, publicIp, 'must be an IPv4 address');
  }
  const publicIpv6 = obj.PublicIPv6;
  if (publicIpv6 !== undefined && publicIpv6 !== null) {
    if (typeof publicIpv6 !== 'string' || parseIp(publicIpv6, `lease ${key}.PublicIPv6`).family !== 6) {
      throw new InvalidInputError(`lease ${key}.PublicIPv6`, publicIpv6, 'must be an IPv6 address or null');
    }
  }
  const backendType = obj.BackendType ?? '';
  if (typeof backendType !== 'string') throw new InvalidInputError(`lease ${key}.BackendType`, backendType, 'must be a string');
  return {
    publicIp,
    publicIpv6: typeof publicIpv6 === 'string' ? normalizeIp(publicIpv6) : undefined,
    backendType,
    backendData: obj.BackendData ?? undefined,
    backendV6Data: obj.BackendV6Data ?? undefined,
  };
}

function normalizeIp(text: string): string {
  const { family, addr } = parseIp(text);
  return formatIp(family, addr);
}

/** Reads one field of BackendData as a string, or undefined. */
export function backendField(data: JsonValue | undefined, name: string): JsonValue | undefined {
  if (data === null || data === undefined || typeof data !== 'object' || Array.isArray(data)) return undefined;
  return data[name];
}

export function describeLease(lease: Lease): string {
  return `${lease.key} (PublicIP ${lease.attrs.publicIp}, ${lease.attrs.backendType || 'no backend'}${
    lease.reservation ? ', reservation' : ''
  })`;
}

