// The host's interfaces as observed (src/kernel/interfaces.ts reads them), and the
// external interface chosen from them (src/net/iface.ts): data only, no I/O.

export interface ObservedAddress {
  readonly family: 4 | 6;
  readonly local: string;
  readonly prefixlen: number;
  readonly scope: string;
}

export interface ObservedInterface {
  readonly name: string;
  readonly index: number;
  readonly mtu: number;
  readonly up: boolean;
  readonly addrs: readonly ObservedAddress[];
}

export interface InterfaceView {
  readonly interfaces: readonly ObservedInterface[];
  /** Device of the IPv4 default route, if any. */
  readonly defaultDev?: string | undefined;
  readonly defaultDev6?: string | undefined;
}

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
