// The per-peer rules every kernel backend shares, pure: which leases count as
// peers (never this host's own, never another BackendType), what one peer adds to
// the desired kernel state, and what is kept when a peer cannot be fully read.
// The agent's PeerLoop (incremental, logs once) and `tartan audit --kernel` (one
// shot) both judge peers here, so they cannot disagree.
import { InvalidInputError, errorMessage } from '../../errors.ts';
import type { Lease } from '../../lease/lease.ts';
import { type Cidr, type Family, equalCidr, formatIp, parseIp } from '../../net/cidr.ts';
import { type KernelObject, objectKey, prefixText } from '../../kernel/index.ts';
import type { PeerContribution } from './desired.ts';

/** What one peer lease needs. `problems` name the lease field that was unusable (one per family at most). */
export interface PeerObjects {
  readonly objects: readonly KernelObject[];
  readonly problems: readonly InvalidInputError[];
}

export interface OwnSubnets {
  readonly subnet: Cidr;
  readonly ipv6Subnet?: Cidr | undefined;
}

export interface PeerRules {
  /** The backend's type: a lease of another BackendType is not programmed. */
  readonly backendType: string;
  /** This host's own subnets: a lease for either is never a peer. */
  readonly own: OwnSubnets;
  /** Pure: the objects one peer needs. Throwing InvalidInputError counts as a problem with that lease. */
  readonly objectsFor: (lease: Lease) => PeerObjects;
}

export type PeerVerdict =
  | { readonly kind: 'own' }
  | { readonly kind: 'other-type' }
  | { readonly kind: 'peer'; readonly contribution: PeerContribution; readonly problems: readonly InvalidInputError[] };

/** A lease for either of this host's own subnets (IPv4 or IPv6). */
export function isOwnLease(lease: Lease, own: OwnSubnets): boolean {
  return equalCidr(lease.subnet, own.subnet) ||
    (lease.ipv6Subnet !== undefined && own.ipv6Subnet !== undefined && equalCidr(lease.ipv6Subnet, own.ipv6Subnet));
}

export function judgePeer(lease: Lease, rules: PeerRules): PeerVerdict {
  if (isOwnLease(lease, rules.own)) return { kind: 'own' };
  if (lease.attrs.backendType !== rules.backendType) return { kind: 'other-type' };
  const { objects, problems } = objectsOf(lease, rules);
  return {
    kind: 'peer',
    problems,
    contribution: {
      entries: objects.map((o) => [objectKey(o), o] as const),
      // Fail static: whatever already works for a lease we cannot fully read stays.
      retain: problems.length === 0 ? [] : [prefixText(lease.subnet), ...(lease.ipv6Subnet ? [prefixText(lease.ipv6Subnet)] : [])],
    },
  };
}

function objectsOf(lease: Lease, rules: PeerRules): PeerObjects {
  try {
    return rules.objectsFor(lease);
  } catch (err) {
    const problem = err instanceof InvalidInputError ? err : new InvalidInputError(`lease ${lease.key}`, undefined, errorMessage(err));
    return { objects: [], problems: [problem] };
  }
}

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
