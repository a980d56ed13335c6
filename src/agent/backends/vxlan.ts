// The vxlan backend, bit-compatible with flannel's: device flannel.<VNI> (and
// flannel-v6.<VNI>), the VTEP MAC published as BackendData {"VNI","VtepMAC"}, and
// per peer a permanent fdb + neigh entry and an onlink route (vxlan-peer.ts).
//
// Why the device is reused rather than re-created at start: peers hold our VTEP
// MAC in their neigh and fdb tables. A new MAC at every restart (flannel #533,
// #1330) leaves them sending to a MAC nobody owns until their next resync, and a
// re-created device drops every route through it. So prepare() keeps the device
// when its identity matches and re-creates it (with the same MAC) only when the
// VNI, port, local address, underlay link or GBP changed.
import { InvalidInputError } from '../../errors.ts';
import type { Lease } from '../../lease/lease.ts';
import { type Cidr, type Family, formatIp } from '../../net/cidr.ts';
import { KernelReconciler, ensureOnlyAddress, ensureVxlanDevice, ipv4Text, type VxlanDevice } from '../../kernel/index.ts';
import type { Backend, BackendContext, BackendFactory, BackendPrepared, ReconcileOptions } from '../backend.ts';
import { ConnectedNetworks } from './connected.ts';
import { PeerLoop } from './peer-loop.ts';
import { type VxlanConfig, parseVxlanConfig } from './vxlan-config.ts';
import { vxlanBackendData } from './vxlan-peer.ts';
import type { PeerObjects } from './peer.ts';
import { peerObjectsFor } from './peer-objects.ts';

/** Bytes vxlan adds to every packet: outer IPv4 (20) or IPv6 (40) + UDP (8) + vxlan (8) + inner Ethernet (14). */
const OVERHEAD: Record<Family, number> = { 4: 50, 6: 70 };

export const createVxlanBackend: BackendFactory = (ctx) => new VxlanBackend(ctx);

class VxlanBackend implements Backend {
  readonly type = 'vxlan';
  readonly #ctx: BackendContext;
  readonly #config: VxlanConfig;
  #devices: Partial<Record<Family, VxlanDevice>> = {};
  #own: { subnet: Cidr; ipv6Subnet?: Cidr | undefined } | undefined;
  readonly #connected: ConnectedNetworks;
  #reconciler: KernelReconciler | undefined;
  #loop: PeerLoop | undefined;
  #objectsFor: (lease: Lease) => PeerObjects = () => ({ objects: [], problems: [] });

  constructor(ctx: BackendContext) {
    this.#ctx = ctx;
    this.#config = parseVxlanConfig(ctx.network);
    this.#connected = new ConnectedNetworks(ctx.iface.name, ctx.netns);
  }

  async prepare(signal: AbortSignal): Promise<BackendPrepared> {
    await this.#ensureDevices(signal);
    const v4 = this.#devices[4];
    const v6 = this.#devices[6];
    return {
      backendData: v4 ? vxlanBackendData(this.#config.vni, v4.mac) : undefined,
      backendV6Data: v6 ? vxlanBackendData(this.#config.vni, v6.mac) : undefined,
      mtu: this.#mtu(v4 ? 4 : 6),
    };
  }

  async activate(own: { subnet: Cidr; ipv6Subnet?: Cidr | undefined }, signal: AbortSignal): Promise<void> {
    if (this.#devices[4] === undefined && this.#devices[6] === undefined) await this.prepare(signal);
    if (this.#ctx.network.ipv6 && own.ipv6Subnet === undefined) {
      throw new InvalidInputError('lease', own, 'the network is dual-stack but this host has no IPv6 subnet');
    }
    this.#own = own;
    await this.#ensureAddresses(signal);
    // Read even without DirectRouting: no peer route may ever cover the underlay (the forbidden prefixes).
    await this.#connected.refresh();
    this.#objectsFor = peerObjectsFor(this.#ctx.network, this.#connected.view());
    const families = ([4, 6] as const).filter((f) => this.#devices[f] !== undefined);
    this.#reconciler = new KernelReconciler({
      netns: this.#ctx.netns,
      families,
      devices: families.map((f) => this.#deviceName(f)),
    });
    this.#loop = new PeerLoop({
      backendType: this.type,
      log: this.#ctx.log,
      reconciler: this.#reconciler,
      own,
      objectsFor: (lease: Lease) => this.#objectsFor(lease),
      forbidden: () => [own.subnet, ...(own.ipv6Subnet ? [own.ipv6Subnet] : []), ...this.#connected.networks],
    });
  }

  async reconcile(peers: readonly Lease[], signal: AbortSignal, opts: ReconcileOptions = {}): Promise<void> {
    if (this.#loop === undefined) throw new Error('vxlan backend: reconcile() called before activate()');
    if (opts.observe === true) await this.#resyncHost(signal);
    await this.#loop.reconcile(peers, signal, opts.observe === true, opts.held);
  }

  /** Resync only: the device, its address and the connected networks may have changed behind our back. */
  async #resyncHost(signal: AbortSignal): Promise<void> {
    await this.#ensureDevices(signal);
    await this.#ensureAddresses(signal);
    if (this.#config.directRouting && (await this.#connected.refresh())) {
      this.#objectsFor = peerObjectsFor(this.#ctx.network, this.#connected.view());
      this.#loop?.forgetPeers();
    }
  }

  async #ensureDevices(signal: AbortSignal): Promise<void> {
    const { iface, network } = this.#ctx;
    const wanted: Array<[Family, string | undefined]> = [];
    if (network.ipv4) wanted.push([4, iface.ipv4 ?? iface.publicIp]);
    if (network.ipv6) wanted.push([6, iface.ipv6 ?? iface.publicIpv6]);
    for (const [family, local] of wanted) {
      signal.throwIfAborted();
      if (local === undefined) {
        throw new InvalidInputError(`interface ${iface.name}`, undefined, `has no IPv${family} address for the vxlan device`);
      }
      const device = await ensureVxlanDevice({
        name: this.#deviceName(family), vni: this.#config.vni, port: this.#config.port, local,
        underlay: iface.name, learning: this.#config.learning, gbp: this.#config.gbp, mtu: this.#mtu(family),
      }, { netns: this.#ctx.netns, log: this.#ctx.log });
      if (device.created) this.#reconciler?.invalidate();
      this.#devices[family] = device;
    }
  }

  async #ensureAddresses(signal: AbortSignal): Promise<void> {
    const own = this.#own;
    if (own === undefined) return;
    signal.throwIfAborted();
    // The device was just read by #ensureDevices: its addresses come along, no second `ip` call.
    const v4 = this.#devices[4];
    const v6 = this.#devices[6];
    const netns = this.#ctx.netns;
    if (v4) await ensureOnlyAddress(v4.name, { family: 4, ip: ipv4Text(own.subnet.addr), prefix: 32 }, { netns, current: v4.addresses });
    if (v6 && own.ipv6Subnet) {
      await ensureOnlyAddress(v6.name, { family: 6, ip: formatIp(6, own.ipv6Subnet.addr), prefix: 128 }, { netns, current: v6.addresses });
    }
  }

  #deviceName(family: Family): string {
    return family === 4 ? this.#config.deviceV4 : this.#config.deviceV6;
  }

  #mtu(family: Family): number {
    return this.#config.mtu ?? this.#ctx.iface.mtu - OVERHEAD[family];
  }
}
