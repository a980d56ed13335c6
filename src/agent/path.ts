// Per-peer path choice (DESIGN.md "Hybrid"), pure:
// 1. same route domain and the controller's route status is `programmed` → the
//    VPC routes it: nothing in the kernel;
// 2./3. otherwise the kernel fallback: host-gw when the peer is directly connected,
//    else vxlan — the vxlan backend with DirectRouting makes that choice per peer.
// Overflow, a controller outage before the route exists, another cloud or on-prem
// all end in the kernel, so every pair of hosts always has a path.
import { type JsonValue, type Lease, backendField } from '../lease/lease.ts';

export type PeerPath = 'cloud' | 'kernel';

export interface PathInput {
  /** This host's route domain id (`none` when not in a cloud network). */
  readonly routeDomain: string;
  readonly peers: readonly Lease[];
  /** The controller's published route status by lease key (`<prefix>/routes/<key>`). */
  readonly status: ReadonlyMap<string, JsonValue>;
}

export interface PathPlan {
  /** Peers the VPC routes. */
  readonly cloud: readonly Lease[];
  /** Peers the kernel backend must reach (vxlan / host-gw). */
  readonly kernel: readonly Lease[];
}

export const ROUTE_DOMAIN_FIELD = 'RouteDomain';
export const INSTANCE_ID_FIELD = 'InstanceID';

export function peerRouteDomain(lease: Lease): string | undefined {
  const v = backendField(lease.attrs.backendData, ROUTE_DOMAIN_FIELD);
  return typeof v === 'string' ? v : undefined;
}

/**
 * Whether a lease's host asks for a cloud route: it published a route domain (a
 * tartan agent in hybrid mode) other than `none`. A flannel lease, or a tartan host
 * outside any cloud network, would never use the route — its peers reach it over
 * the kernel path — so routing it would only spend route-table quota.
 */
export function wantsCloudRoute(lease: Lease): boolean {
  const domain = peerRouteDomain(lease);
  return domain !== undefined && domain !== 'none';
}

export function isProgrammed(status: JsonValue | undefined): boolean {
  return status !== null && typeof status === 'object' && !Array.isArray(status) && status.state === 'programmed';
}

export function choosePaths(input: PathInput): PathPlan {
  const cloud: Lease[] = [];
  const kernel: Lease[] = [];
  for (const peer of input.peers) {
    const sameDomain = input.routeDomain !== 'none' && peerRouteDomain(peer) === input.routeDomain;
    (sameDomain && isProgrammed(input.status.get(peer.key)) ? cloud : kernel).push(peer);
  }
  return { cloud, kernel };
}
