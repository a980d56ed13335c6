// The seam between the agent's lease lifecycle and the data plane. The agent
// calls, in order: prepare() before acquiring the lease (its BackendData goes into
// the lease, as flannel publishes the VTEP MAC), activate() once the lease is
// held, then reconcile() with the full peer set every time it changes, and
// reconcile(…, { observe: true }) on every periodic resync (default every 10 s).
// Shutdown calls nothing: kernel state stays for a hitless restart.
import type { Cidr } from '../net/cidr.ts';
import type { JsonValue, Lease } from '../lease/lease.ts';
import type { NetworkConfig } from '../config/network.ts';
import type { Logger } from '../observe/log.ts';
import type { Clock } from '../util/time.ts';
import type { ExternalInterface } from '../net/interfaces.ts';
import type { Registry } from 'prom-client';

export type { ExternalInterface } from '../net/interfaces.ts';

export interface BackendPrepared {
  readonly backendData?: JsonValue | undefined;
  readonly backendV6Data?: JsonValue | undefined;
  /** MTU for pods, written to subnet.env as FLANNEL_MTU. */
  readonly mtu: number;
}

export interface BackendContext {
  readonly network: NetworkConfig;
  readonly iface: ExternalInterface;
  readonly log: Logger;
  /** Program the kernel inside this named network namespace (tests, lab, bench); production: undefined. */
  readonly netns?: string | undefined;
  readonly clock?: Clock | undefined;
  /** The agent's metrics registry, for a backend with its own counters (udp: its data path). */
  readonly registry?: Registry | undefined;
}

export interface ReconcileOptions {
  /**
   * false/absent (a lease event): diff the peers against what this backend applied
   * last and send only the difference — no kernel dump, so one peer added to a host
   * with 5,000 reaches the kernel in milliseconds.
   * true (the periodic resync): read what tartan owns in the kernel first and repair
   * any drift (objects deleted or changed behind tartan's back, stale peers).
   * The first reconcile after start always reads the kernel, so routes of peers that
   * left while the agent was down are removed.
   */
  readonly observe?: boolean | undefined;
  /**
   * Destinations of leases set aside (the validator refused them): nothing is
   * programmed for them, and whatever tartan already has there stays (fail static).
   */
  readonly held?: readonly string[] | undefined;
}

export interface Backend {
  /** The lease BackendType this backend publishes and accepts from peers (`vxlan`, `host-gw`). */
  readonly type: string;
  prepare(signal: AbortSignal): Promise<BackendPrepared>;
  activate(own: { subnet: Cidr; ipv6Subnet?: Cidr | undefined }, signal: AbortSignal): Promise<void>;
  /**
   * Level-triggered: make the kernel match exactly these peers (own lease excluded;
   * always the full set, never a delta). Peers of another BackendType are ignored
   * (logged once per peer); a peer with unreadable BackendData is skipped with a
   * warning naming the lease key and field, and whatever already worked for it
   * stays. Adds and replaces reach the kernel before deletes. Rejects with
   * KernelApplyError (src/kernel) listing the objects the kernel refused — everything
   * else was applied, and the refused objects are retried on the next call — or with
   * the signal's reason. Calls are serialised; callers need not await one before
   * the next, but should log a rejection and carry on (the next resync retries).
   */
  reconcile(peers: readonly Lease[], signal: AbortSignal, opts?: ReconcileOptions): Promise<void>;
}

export type BackendFactory = (ctx: BackendContext) => Backend;
