// What one peer lease needs on a host-gw host, per family, pure: a plain route
// `<peer subnet> via <peer PublicIP> dev <ext>`, only when the PublicIP is on a
// directly connected network; otherwise a problem naming the lease and the address.
import { InvalidInputError } from '../../errors.ts';
import type { Lease } from '../../lease/lease.ts';
import type { Cidr, Family } from '../../net/cidr.ts';
import { type KernelObject, onConnectedNetwork, prefixText } from '../../kernel/index.ts';
import { type PeerObjects, peerAddress } from './peer.ts';

export interface HostGwPeerContext {
  readonly families: readonly Family[];
  readonly dev: string;
  readonly networks: readonly Cidr[];
  /** For error messages: the networks as text. */
  readonly networksText: string;
}

/** Pure: the route one peer needs per family, or a problem naming the lease and its PublicIP. */
export function hostGwPeerObjects(lease: Lease, ctx: HostGwPeerContext): PeerObjects {
  const objects: KernelObject[] = [];
  const problems: InvalidInputError[] = [];
  for (const family of ctx.families) {
    const subnet = family === 4 ? lease.subnet : lease.ipv6Subnet;
    if (subnet === undefined) continue;
    try {
      const via = peerAddress(lease, family);
      if (!onConnectedNetwork(via, ctx.networks)) {
        throw new InvalidInputError(`lease ${lease.key}.${family === 4 ? 'PublicIP' : 'PublicIPv6'}`, via,
          `is not on a network directly connected to ${ctx.dev} (${ctx.networksText}); host-gw needs every host on one L2 network — use vxlan (or vxlan with DirectRouting) across routers`);
      }
      objects.push({ kind: 'route', dst: prefixText(subnet), via, dev: ctx.dev, onlink: false });
    } catch (err) {
      if (!(err instanceof InvalidInputError)) throw err;
      problems.push(err);
    }
  }
  return { objects, problems };
}
