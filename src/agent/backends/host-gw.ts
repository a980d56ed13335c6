// host-gw: every peer is a plain route `<peer subnet> via <peer PublicIP> dev <ext>`.
// No device, no encapsulation, MTU = link MTU. It only works when every host sits
// on one L2 network; a peer elsewhere gets a clear error naming its lease and
// PublicIP and is skipped, the others still work. The loop lives in peer-loop.ts.
import { InvalidInputError } from '../../errors.ts';
import type { Lease } from '../../lease/lease.ts';
import type { Cidr, Family } from '../../net/cidr.ts';
import { type KernelObject, KernelReconciler, onConnectedNetwork, prefixText } from '../../kernel/index.ts';
import type { Backend, BackendContext, BackendFactory, BackendPrepared, ReconcileOptions } from '../backend.ts';
import { ConnectedNetworks } from './connected.ts';
import { type PeerObjects, PeerLoop, peerAddress } from './peer-loop.ts';

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

export const createHostGwBackend: BackendFactory = (ctx) => new HostGwBackend(ctx);

class HostGwBackend implements Backend {
  readonly type = 'host-gw';
  readonly #ctx: BackendContext;
  readonly #connected: ConnectedNetworks;
  readonly #families: Family[];
  #loop: PeerLoop | undefined;

  constructor(ctx: BackendContext) {
    this.#ctx = ctx;
    this.#connected = new ConnectedNetworks(ctx.iface.name, ctx.netns);
    this.#families = [...(ctx.network.ipv4 ? [4 as const] : []), ...(ctx.network.ipv6 ? [6 as const] : [])];
  }

  async prepare(_signal: AbortSignal): Promise<BackendPrepared> {
    const { iface } = this.#ctx;
    // Peers route to our PublicIP as a next hop on their own link: behind NAT it is not there.
    if (iface.ipv4 !== undefined && this.#ctx.network.ipv4 && iface.publicIp !== iface.ipv4) {
      throw new InvalidInputError('--public-ip', iface.publicIp, `host-gw needs the public IP to be ${iface.name}'s own address ${iface.ipv4} (no NAT)`);
    }
    return { mtu: iface.mtu };
  }

  async activate(own: { subnet: Cidr; ipv6Subnet?: Cidr | undefined }, _signal: AbortSignal): Promise<void> {
    await this.#connected.refresh();
    this.#loop = new PeerLoop({
      backendType: this.type,
      log: this.#ctx.log,
      reconciler: new KernelReconciler({ netns: this.#ctx.netns, families: this.#families, devices: [] }),
      own,
      objectsFor: (lease) => hostGwPeerObjects(lease, {
        families: this.#families, dev: this.#connected.dev, networks: this.#connected.networks, networksText: this.#connected.describe(),
      }),
    });
  }

  async reconcile(peers: readonly Lease[], signal: AbortSignal, opts: ReconcileOptions = {}): Promise<void> {
    if (this.#loop === undefined) throw new Error('host-gw backend: reconcile() called before activate()');
    if (opts.observe === true && (await this.#connected.refresh())) this.#loop.forgetPeers();
    await this.#loop.reconcile(peers, signal, opts.observe === true);
  }
}
