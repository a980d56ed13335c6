// Per-peer path choice (DESIGN.md "Hybrid"), pure:
// 1. same route domain and the controller's route status is `programmed` → the
//    VPC routes it: nothing in the kernel;
// 2./3. otherwise the kernel fallback: host-gw when the peer is directly connected,
//    else vxlan — the vxlan backend with DirectRouting makes that choice per peer.
// Overflow, a controller outage before the route exists, another cloud or on-prem
// all end in the kernel, so every pair of hosts always has a path.
import { peerRouteDomain } from '../lease/hybrid.ts';
import type { Lease } from '../lease/lease.ts';
import { type RouteStatus, isProgrammed } from '../lease/route-status.ts';

export type PeerPath = 'cloud' | 'kernel';

export interface PathInput {
  /** This host's route domain id (`none` when not in a cloud network). */
  readonly routeDomain: string;
  readonly peers: readonly Lease[];
  /** The controller's published route status by lease key (`<prefix>/routes/<key>`). */
  readonly status: ReadonlyMap<string, RouteStatus>;
}

export interface PathPlan {
  /** Peers the VPC routes. */
  readonly cloud: readonly Lease[];
  /** Peers the kernel backend must reach (vxlan / host-gw). */
  readonly kernel: readonly Lease[];
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
