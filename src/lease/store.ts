// What the agent, the controller and the audit need from a lease store. Small,
// separate abilities (STYLE.md: no wide Manager interface whose other half says
// "unimplemented"): reading + watching, acquiring + renewing, the network config.
import type { NetworkConfig } from '../config/network.ts';
import type { Cidr } from '../net/cidr.ts';
import type { Lease, LeaseAttrs } from './lease.ts';
import type { PublishedRouteStatus, RouteStatusHeartbeat, RouteStatusRead } from './route-status.ts';

export interface SkippedLease {
  readonly key: string;
  readonly error: Error;
}

export interface LeaseSnapshot {
  readonly leases: readonly Lease[];
  /** Keys whose value did not parse: skipped with a warning, never fatal. */
  readonly skipped: readonly SkippedLease[];
  /** Store revision the snapshot is consistent at; watch from revision + 1. */
  readonly revision: number;
}

export type LeaseEvent =
  | { readonly type: 'put'; readonly lease: Lease }
  | { readonly type: 'delete'; readonly key: string; readonly revision: number }
  | { readonly type: 'skipped'; readonly skipped: SkippedLease }
  /** The watch could not resume (compaction): here is the whole set again. */
  | { readonly type: 'resync'; readonly snapshot: LeaseSnapshot };

export interface WatchOptions {
  readonly fromRevision: number;
  readonly signal: AbortSignal;
  readonly onEvents: (events: readonly LeaseEvent[]) => void;
  /** Told when the connection to the store drops and when it is back. */
  readonly onConnection?: (connected: boolean, err?: Error) => void;
}

export interface LeaseReader {
  /**
   * How a peer's subnet size is judged (LeaseValidator): 'exact' = SubnetLen (etcd, the
   * default); 'at-least-network' = any size inside Network (Kubernetes podCIDRs, sized by
   * kube-controller-manager's --node-cidr-mask-size).
   */
  readonly prefixRule?: 'exact' | 'at-least-network';
  list(signal: AbortSignal): Promise<LeaseSnapshot>;
  /** Streams changes until the signal aborts; resumes by revision after disconnects. */
  watch(opts: WatchOptions): Promise<void>;
}

export interface AcquireRequest {
  readonly attrs: LeaseAttrs;
  /** The subnets of the previous subnet.env, tried before a random free one. */
  readonly previous?: { readonly subnet?: Cidr | undefined; readonly ipv6Subnet?: Cidr | undefined } | undefined;
}

export interface LeaseHolder {
  /**
   * false: subnets are assigned elsewhere (Kubernetes: kube-controller-manager's
   * spec.podCIDR), so there is no pool to exhaust and no lease to reuse. Default true.
   */
  readonly allocates?: boolean;
  /** flannel's order: own PublicIP's lease → previous subnet → random among the first 100 free. */
  acquire(config: NetworkConfig, req: AcquireRequest, signal: AbortSignal): Promise<Lease>;
  /** Extends the lease (a new etcd lease); throws LeaseRevokedError when the key is gone. */
  renew(lease: Lease, signal: AbortSignal): Promise<Lease>;
}

export interface NetworkConfigSource {
  getNetworkConfig(signal: AbortSignal): Promise<NetworkConfig>;
}

/** Route status the controller publishes per lease (etcd: `<prefix>/routes/<subnet-key>`). */
export interface RouteStatusStore {
  /** Every status; values that do not decode come back apart, never as a status. */
  listRouteStatus(signal: AbortSignal): Promise<RouteStatusRead>;
  putRouteStatus(key: string, status: PublishedRouteStatus, signal: AbortSignal): Promise<void>;
  /** Many puts and deletes in few requests (each a transaction of up to ROUTE_STATUS_BATCH). */
  writeRouteStatuses(puts: ReadonlyMap<string, PublishedRouteStatus>, deletes: readonly string[], signal: AbortSignal): Promise<void>;
  /** The controller's heartbeat beside the statuses (see RouteStatusHeartbeat). */
  writeHeartbeat(heartbeat: RouteStatusHeartbeat, signal: AbortSignal): Promise<void>;
}

/** Operations per etcd transaction when writing route statuses (etcd allows 128 by default, --max-txn-ops). */
export const ROUTE_STATUS_BATCH = 64;

export interface RouteStatusSnapshot extends RouteStatusRead {
  readonly revision: number;
}

export interface RouteStatusWatchOptions {
  readonly fromRevision: number;
  readonly signal: AbortSignal;
  /** One status changed; `undefined` when it was deleted or its new value does not decode (not programmed). */
  readonly onChange: (key: string, status: PublishedRouteStatus | undefined) => void;
  /** The controller wrote its heartbeat (undefined: deleted or does not decode). */
  readonly onHeartbeat?: ((heartbeat: RouteStatusHeartbeat | undefined) => void) | undefined;
  /** The watch could not resume (compaction): here are all statuses again. */
  readonly onResync: (read: RouteStatusRead) => void;
}

/** What agents read of the controller's route status (hybrid path choice). */
export interface RouteStatusReader {
  snapshotRouteStatus(signal: AbortSignal): Promise<RouteStatusSnapshot>;
  watchRouteStatus(opts: RouteStatusWatchOptions): Promise<void>;
}

/** This host's own lease was deleted by someone else: flanneld exits, so do we. */
export class LeaseRevokedError extends Error {
  readonly key: string;
  constructor(key: string) {
    super(`lease ${key} has been revoked (its key was deleted from the store)`);
    this.name = 'LeaseRevokedError';
    this.key = key;
  }
}
