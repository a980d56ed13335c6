// Which subnet this host takes, as a pure plan (flannel's tryAcquireLease order):
// 1. a lease with our PublicIP that still fits the config is reused (one that no
//    longer fits is deleted, unless it is a reservation: that is an operator's error);
// 2. else the subnet of the previous subnet.env, if it is free and fits;
// 3. else a random one among the first 100 free subnets. After a lost create
//    race the window doubles per retry (200, 400, …), so a thousand hosts starting
//    at once stop colliding on the same hundred subnets.
import type { NetworkConfig, SubnetPool } from '../config/network.ts';
import { ConflictError, InvalidInputError } from '../errors.ts';
import { type Cidr, equalCidr, formatCidr, overlaps } from '../net/cidr.ts';
import { MAX_CANDIDATES, fitsPool, pickFreeSubnet } from './allocate.ts';
import { type Lease, type LeaseAttrs, backendField } from './lease.ts';
import type { AcquireRequest } from './store.ts';

export type AcquirePlan =
  | { readonly kind: 'reuse'; readonly lease: Lease; readonly deleteKeys: readonly string[] }
  | { readonly kind: 'create'; readonly subnet: Cidr; readonly ipv6Subnet?: Cidr | undefined; readonly deleteKeys: readonly string[] }
  | { readonly kind: 'exhausted'; readonly pool: SubnetPool; readonly deleteKeys: readonly string[] };

export interface PlanAcquireInput {
  readonly config: NetworkConfig;
  readonly leases: readonly Lease[];
  readonly req: AcquireRequest;
  /** Subnets to leave out (lost a create race on them already). */
  readonly avoid?: readonly Cidr[];
  readonly random?: () => number;
  /** How many create races this acquisition lost so far (widens the random window). */
  readonly lostRaces?: number;
}

export function planAcquire(input: PlanAcquireInput): AcquirePlan {
  const { config, req } = input;
  const v4 = config.ipv4;
  if (!v4) throw new InvalidInputError('EnableIPv4', false, 'IPv6-only networks are not supported: flannel lease keys always carry an IPv4 subnet');
  const mine = input.leases.filter((l) => l.attrs.publicIp === req.attrs.publicIp);
  const deleteKeys: string[] = [];
  for (const lease of mine) {
    if (leaseFits(config, lease)) return { kind: 'reuse', lease, deleteKeys };
    if (lease.reservation) {
      throw new InvalidInputError(`reservation ${lease.key}`, formatCidr(lease.subnet), 'does not fit the network config (Network, SubnetLen, SubnetMin/Max)');
    }
    deleteKeys.push(lease.key);
  }
  const others = input.leases.filter((l) => !deleteKeys.includes(l.key));
  const taken = [...others.flatMap((l) => (l.ipv6Subnet ? [l.subnet, l.ipv6Subnet] : [l.subnet])), ...(input.avoid ?? [])];
  const prev = req.previous;
  if (prev?.subnet && fitsPool(v4, prev.subnet) && isFree(prev.subnet, taken)) {
    const v6ok = !config.ipv6 || (prev.ipv6Subnet && fitsPool(config.ipv6, prev.ipv6Subnet) && isFree(prev.ipv6Subnet, taken));
    if (v6ok) return { kind: 'create', subnet: prev.subnet, ipv6Subnet: config.ipv6 ? prev.ipv6Subnet : undefined, deleteKeys };
  }
  const window = MAX_CANDIDATES * 2 ** Math.min(input.lostRaces ?? 0, 6);
  const subnet = pickFreeSubnet(v4, taken, input.random, window);
  if (!subnet) return { kind: 'exhausted', pool: v4, deleteKeys };
  if (!config.ipv6) return { kind: 'create', subnet, deleteKeys };
  const ipv6Subnet = pickFreeSubnet(config.ipv6, taken, input.random, window);
  if (!ipv6Subnet) return { kind: 'exhausted', pool: config.ipv6, deleteKeys };
  return { kind: 'create', subnet, ipv6Subnet, deleteKeys };
}

/** A lease fits when each enabled family's subnet fits its pool and no disabled family is present. */
export function leaseFits(config: NetworkConfig, lease: Pick<Lease, 'subnet' | 'ipv6Subnet'>): boolean {
  if (!config.ipv4 || !fitsPool(config.ipv4, lease.subnet)) return false;
  if (config.ipv6) return lease.ipv6Subnet !== undefined && fitsPool(config.ipv6, lease.ipv6Subnet);
  return lease.ipv6Subnet === undefined;
}

function isFree(subnet: Cidr, taken: readonly Cidr[]): boolean {
  return !taken.some((t) => equalCidr(t, subnet) || overlaps(t, subnet));
}

/**
 * One host per lease: a lease found by our PublicIP whose holder wrote it less than
 * this long ago with another VtepMAC belongs to a live host (two hosts were given
 * one --public-ip). Longer ago, it is this host's own lease from before a reboot
 * (the vxlan device, and its MAC, are new) and is reused as flannel does. A live
 * holder that was not renewed that recently is caught by its own agent, which sees
 * its lease rewritten (agent/agent.ts) and turns not-ready.
 */
export const RECENT_WRITE_MS = 10 * 60_000;

/** Throws ConflictError naming the lease and the other MAC when reusing `lease` would take it from a live host. */
export function assertReusable(o: { lease: Lease; attrs: LeaseAttrs; writtenAgoMs: number | undefined }): void {
  const theirs = backendField(o.lease.attrs.backendData, 'VtepMAC');
  const ours = backendField(o.attrs.backendData, 'VtepMAC');
  if (o.lease.reservation || o.writtenAgoMs === undefined || o.writtenAgoMs >= RECENT_WRITE_MS) return;
  if (typeof theirs !== 'string' || typeof ours !== 'string' || theirs.toLowerCase() === ours.toLowerCase()) return;
  throw new ConflictError(
    `lease ${o.lease.key} (PublicIP ${o.lease.attrs.publicIp}) was written ${Math.round(o.writtenAgoMs / 1000)} s ago by another host with VtepMAC ${theirs} (ours ${ours}): ` +
    `two hosts share one public IP; fix --public-ip, or if that host is gone wait ${RECENT_WRITE_MS / 60_000} minutes`,
  );
}
