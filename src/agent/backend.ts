// The seam between the agent's lease lifecycle and the data plane. The agent
// calls, in order: prepare() before acquiring the lease (its BackendData goes into
// the lease, as flannel publishes the VTEP MAC), activate() once the lease is
// held, then reconcile() with the full peer set every time it changes and on
// every resync. Shutdown calls nothing: kernel state stays for a hitless restart.
import type { Cidr } from '../net/cidr.ts';
import type { JsonValue, Lease } from '../lease/lease.ts';
import type { NetworkConfig } from '../config/network.ts';
import type { Logger } from '../observe/log.ts';

/** The host's external (underlay) interface, chosen like flanneld's --iface. */
export interface ExternalInterface {
  readonly name: string;
  readonly index: number;
  readonly mtu: number;
  /** The interface's own IPv4/IPv6 address (may differ from publicIp behind NAT). */
  readonly ipv4?: string | undefined;
  readonly ipv6?: string | undefined;
  /** What peers use to reach this host (--public-ip, default the interface address). */
  readonly publicIp: string;
  readonly publicIpv6?: string | undefined;
}

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
}

export interface Backend {
  /** The lease BackendType this backend publishes and accepts from peers (`vxlan`, `host-gw`). */
  readonly type: string;
  prepare(signal: AbortSignal): Promise<BackendPrepared>;
  activate(own: { subnet: Cidr; ipv6Subnet?: Cidr | undefined }, signal: AbortSignal): Promise<void>;
  /** Level-triggered: make the kernel match exactly these peers (own lease excluded). */
  reconcile(peers: readonly Lease[], signal: AbortSignal): Promise<void>;
}

export type BackendFactory = (ctx: BackendContext) => Backend;
