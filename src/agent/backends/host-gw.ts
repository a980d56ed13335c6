// host-gw: every peer is a plain route `<peer subnet> via <peer PublicIP> dev <ext>`.
// No device, no encapsulation, MTU = link MTU. It only works when every host sits
// on one L2 network; a peer elsewhere gets a clear error naming its lease and
// PublicIP and is skipped, the others still work. The loop lives in peer-loop.ts.
import { InvalidInputError } from '../../errors.ts';
import type { Lease } from '../../lease/lease.ts';
import type { Cidr, Family } from '../../net/cidr.ts';
import { KernelReconciler } from '../../kernel/index.ts';
import type { Backend, BackendContext, BackendFactory, BackendPrepared, ReconcileOptions } from '../backend.ts';
import { ConnectedNetworks } from './connected.ts';
import type { PeerObjects } from './peer.ts';
import { configFamilies, peerObjectsFor } from './peer-objects.ts';
import { PeerLoop } from './peer-loop.ts';

export const createHostGwBackend: BackendFactory = (ctx) => new HostGwBackend(ctx);

class HostGwBackend implements Backend {
  readonly type = 'host-gw';
  readonly #ctx: BackendContext;
  readonly #connected: ConnectedNetworks;
  readonly #families: Family[];
  #loop: PeerLoop | undefined;
  #objectsFor: (lease: Lease) => PeerObjects = () => ({ objects: [], problems: [] });

  constructor(ctx: BackendContext) {
    this.#ctx = ctx;
    this.#connected = new ConnectedNetworks(ctx.iface.name, ctx.netns);
    this.#families = configFamilies(ctx.network);
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
    this.#objectsFor = peerObjectsFor(this.#ctx.network, this.#connected.view());
    this.#loop = new PeerLoop({
      backendType: this.type,
      log: this.#ctx.log,
      reconciler: new KernelReconciler({ netns: this.#ctx.netns, families: this.#families, devices: [] }),
      own,
      objectsFor: (lease) => this.#objectsFor(lease),
      forbidden: () => [own.subnet, ...(own.ipv6Subnet ? [own.ipv6Subnet] : []), ...this.#connected.networks],
    });
  }

  async reconcile(peers: readonly Lease[], signal: AbortSignal, opts: ReconcileOptions = {}): Promise<void> {
    if (this.#loop === undefined) throw new Error('host-gw backend: reconcile() called before activate()');
    if (opts.observe === true && (await this.#connected.refresh())) {
      this.#objectsFor = peerObjectsFor(this.#ctx.network, this.#connected.view());
      this.#loop.forgetPeers();
    }
    await this.#loop.reconcile(peers, signal, opts.observe === true, opts.held);
  }
}
