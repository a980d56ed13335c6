// Which kernel objects a peer needs on this host, by backend, pure: the network
// config says the backend and its options, the host view says the external
// interface and the networks it is directly connected to. The running backends
// and `tartan audit --kernel` build the per-peer function here, the same way.
import { InvalidInputError } from '../../errors.ts';
import type { NetworkConfig } from '../../config/network.ts';
import type { Lease } from '../../lease/lease.ts';
import type { Cidr, Family } from '../../net/cidr.ts';
import { prefixText } from '../../kernel/index.ts';
import { hostGwPeerObjects } from './host-gw-peer.ts';
import type { PeerObjects } from './peer.ts';
import { parseVxlanConfig } from './vxlan-config.ts';
import { vxlanPeerObjects } from './vxlan-peer.ts';

/** The host's external interface and the networks it is directly connected to. */
export interface HostView {
  readonly dev: string;
  readonly networks: readonly Cidr[];
}

/** The kernel backends whose peers this module knows. */
export const KERNEL_BACKENDS = ['vxlan', 'host-gw'] as const;

export function configFamilies(config: NetworkConfig): Family[] {
  return [...(config.ipv4 ? [4 as const] : []), ...(config.ipv6 ? [6 as const] : [])];
}

/** The devices peers' objects live on (vxlan: flannel.<VNI> / flannel-v6.<VNI>; host-gw: none of its own). */
export function kernelDevices(config: NetworkConfig): string[] {
  if (config.backend.type !== 'vxlan') return [];
  const vx = parseVxlanConfig(config);
  return [...(config.ipv4 ? [vx.deviceV4] : []), ...(config.ipv6 ? [vx.deviceV6] : [])];
}

/** The pure per-peer function of a kernel backend config (Backend.Type vxlan or host-gw). */
export function peerObjectsFor(config: NetworkConfig, host: HostView): (lease: Lease) => PeerObjects {
  switch (config.backend.type) {
    case 'vxlan': {
      const vx = parseVxlanConfig(config);
      const ctx = {
        v4: config.ipv4 ? { device: vx.deviceV4 } : undefined,
        v6: config.ipv6 ? { device: vx.deviceV6 } : undefined,
        direct: vx.directRouting ? host : undefined,
      };
      return (lease) => vxlanPeerObjects(lease, ctx);
    }
    case 'host-gw': {
      const ctx = { families: configFamilies(config), dev: host.dev, networks: host.networks, networksText: describeNetworks(host.networks) };
      return (lease) => hostGwPeerObjects(lease, ctx);
    }
    default:
      throw new InvalidInputError('Backend.Type', config.backend.type, `is not a kernel backend (${KERNEL_BACKENDS.join(', ')})`);
  }
}

export function describeNetworks(networks: readonly Cidr[]): string {
  return networks.length === 0 ? 'no global address' : networks.map(prefixText).join(', ');
}
