// The desired kernel state of one host, in one call, pure:
//   (network config, own lease, host view, validated peer leases[, route domain + status])
//     → { desired objects, destinations to retain, skipped peers with reasons }.
// `tartan audit --kernel` calls it directly. The agent computes the same thing
// incrementally: its reconcile loop chooses paths with the same choosePaths and
// its PeerLoop judges each peer with the same judgePeer into the same
// DesiredObjects, adding only caching by lease identity and log-once.
import { kernelBackendConfig } from '../config/backend.ts';
import type { NetworkConfig } from '../config/network.ts';
import type { KernelObject } from '../kernel/index.ts';
import type { Lease } from '../lease/lease.ts';
import type { RouteStatus } from '../lease/route-status.ts';
import type { Family } from '../net/cidr.ts';
import { DesiredObjects, type PeerContribution } from './backends/desired.ts';
import { type HostView, configFamilies, kernelDevices, peerObjectsFor } from './backends/peer-objects.ts';
import { type PeerRules, judgePeer } from './backends/peer.ts';
import { choosePaths } from './path.ts';

export type { HostView } from './backends/peer-objects.ts';

export interface KernelStateInput {
  /** The cluster's network config; a cloud type (aws-vpc, gce, ali-vpc) means its Fallback. */
  readonly config: NetworkConfig;
  readonly own: Lease;
  readonly host: HostView;
  /** Every lease (the own lease among them is recognised and left out). */
  readonly leases: readonly Lease[];
  /** Destinations of leases the validator set aside: kept as they are (see heldDestinations). */
  readonly held?: readonly string[] | undefined;
  /** Hybrid: this host's route domain and the controller's route status; peers the VPC routes need nothing in the kernel. */
  readonly hybrid?: { readonly routeDomain: string; readonly status: ReadonlyMap<string, RouteStatus> } | undefined;
}

export interface SkippedPeer {
  readonly lease: string;
  readonly reason: string;
}

export interface KernelState {
  readonly backendType: string;
  readonly families: readonly Family[];
  readonly devices: readonly string[];
  readonly desired: ReadonlyMap<string, KernelObject>;
  /** Destinations kept as they are (peers that could not be fully read: fail static). */
  readonly retainDsts: ReadonlySet<string>;
  /** objectKey → the lease that needs it. */
  readonly owners: ReadonlyMap<string, string>;
  /** Peers of this backend on the kernel path. */
  readonly peers: number;
  /** Peers the VPC routes (hybrid). */
  readonly cloudRouted: number;
  readonly skipped: readonly SkippedPeer[];
}

export function desiredKernelState(input: KernelStateInput): KernelState {
  const config = kernelBackendConfig(input.config);
  const others = input.leases.filter((l) => l.key !== input.own.key);
  const paths = input.hybrid ? choosePaths({ routeDomain: input.hybrid.routeDomain, peers: others, status: input.hybrid.status }) : { cloud: [], kernel: others };
  const rules: PeerRules = { backendType: config.backend.type, own: input.own, objectsFor: peerObjectsFor(config, input.host) };
  const skipped: SkippedPeer[] = [];
  let peers = 0;
  const desired = new DesiredObjects();
  const update = desired.update(paths.kernel, (lease): PeerContribution => {
    const verdict = judgePeer(lease, rules);
    if (verdict.kind !== 'peer') return { entries: [], retain: [] };
    peers++;
    if (verdict.problems.length > 0) skipped.push({ lease: lease.key, reason: verdict.problems.map((p) => p.message).join('; ') });
    return verdict.contribution;
  });
  for (const { lease, other } of update.clashes) {
    skipped.push({ lease, reason: `needs kernel objects peer ${other} already has (same VtepMAC or subnet address)` });
  }
  return {
    backendType: config.backend.type,
    families: configFamilies(config),
    devices: kernelDevices(config),
    desired: desired.objects,
    retainDsts: desired.retainDsts(input.held),
    owners: desired.owners,
    peers,
    cloudRouted: paths.cloud.length,
    skipped: skipped.sort((a, b) => (a.lease < b.lease ? -1 : a.lease > b.lease ? 1 : 0)),
  };
}
