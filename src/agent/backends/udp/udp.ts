// udp: flannel's userspace encapsulation, wire-compatible. flannel0 (a TUN device,
// src/kernel/tun) carries the whole Network; this process reads each packet and
// sends it bare, one per UDP datagram, to the PublicIP of the lease holding its
// destination at port 8285, and writes what peers send into flannel0. No per-peer
// kernel state: a lease event only swaps the peer table (at once, no kernel call).
// The data path lives in the agent, so an agent restart interrupts udp traffic,
// exactly as a flanneld restart does; the TUN closes with the agent's signal.
import { type Socket, createSocket } from 'node:dgram';
import { InvalidInputError } from '../../../errors.ts';
import type { Lease } from '../../../lease/lease.ts';
import { type Cidr, formatCidr, formatIp, networkAddr } from '../../../net/cidr.ts';
import { type TunAddon, loadTunAddon } from '../../../kernel/tun/addon.ts';
import { type TunDevice, openTunDevice } from '../../../kernel/tun/device.ts';
import type { Backend, BackendContext, BackendFactory, BackendPrepared } from '../../backend.ts';
import { type UdpConfig, UDP_ENCAP_OVERHEAD, parseUdpConfig } from './config.ts';
import { UdpCounters, UdpDataPlane } from './dataplane.ts';
import { registerUdpMetrics } from './metrics.ts';
import { PeerTable, udpPeers } from './peers.ts';

/** Datagrams in flight per direction the socket buffers absorb (bursts while JavaScript is busy). */
const SOCKET_BUFFER_BYTES = 8 * 1024 * 1024;

export const createUdpBackend: BackendFactory = (ctx) => {
  const load = loadTunAddon();
  // Before anything is touched: a machine where `npm ci` found no compiler runs every other backend.
  if ('missing' in load) throw new InvalidInputError('Backend.Type', 'udp', `needs ${load.missing}`);
  if (ctx.netns !== undefined) {
    throw new InvalidInputError('netns', ctx.netns, 'the udp backend opens flannel0 in the namespace its process runs in: start the agent under `ip netns exec` instead');
  }
  return new UdpBackend(ctx, load.addon, parseUdpConfig(ctx.network));
};

class UdpBackend implements Backend {
  /** flannel publishes udp leases with no BackendType (Go omitempty); peers with "" or "udp" are udp peers. */
  readonly type = '';
  readonly counters = new UdpCounters();
  readonly #ctx: BackendContext;
  readonly #addon: TunAddon;
  readonly #config: UdpConfig;
  readonly #peers = new PeerTable();
  #mtu = 0;
  #own: Cidr | undefined;
  #device: TunDevice | undefined;
  #socket: Socket | undefined;
  #reported = '';

  constructor(ctx: BackendContext, addon: TunAddon, config: UdpConfig) {
    this.#ctx = ctx;
    this.#addon = addon;
    this.#config = config;
    if (ctx.registry) registerUdpMetrics(ctx.registry, this.counters);
  }

  async prepare(_signal: AbortSignal): Promise<BackendPrepared> {
    const { iface } = this.#ctx;
    if (iface.ipv4 === undefined) throw new InvalidInputError('--iface', iface.name, 'has no IPv4 address for the udp backend to bind');
    this.#mtu = iface.mtu - UDP_ENCAP_OVERHEAD;
    return { mtu: this.#mtu };
  }

  async activate(own: { subnet: Cidr }, signal: AbortSignal): Promise<void> {
    const { iface, log, network } = this.#ctx;
    signal.throwIfAborted();
    const address = networkAddr(own.subnet);
    const device = await openTunDevice(this.#addon, {
      name: 'flannel%d', mtu: this.#mtu, address: formatIp(4, address), network: formatCidr(network.ipv4!.network),
    }, log);
    const socket = createSocket({ type: 'udp4', recvBufferSize: SOCKET_BUFFER_BYTES, sendBufferSize: SOCKET_BUFFER_BYTES });
    try {
      await bind(socket, iface.ipv4!, this.#config.port);
    } catch (err) {
      this.#addon.close(device.handle);
      socket.close();
      throw new Error(`udp backend: cannot bind ${iface.ipv4}:${this.#config.port}: ${(err as Error).message}`, { cause: err });
    }
    this.#own = own.subnet;
    this.#device = device;
    this.#socket = socket;
    new UdpDataPlane({
      addon: this.#addon, tun: device.handle, socket, peers: this.#peers, port: this.#config.port, mtu: this.#mtu,
      tunAddress: Number(address), counters: this.counters,
    }).start();
    signal.addEventListener('abort', () => this.#close(), { once: true });
    log.info({ dev: device.name, mtu: this.#mtu, bind: `${iface.ipv4}:${this.#config.port}` }, 'udp backend: flannel0 up, proxying');
  }

  /** Swaps the peer table whole: a lease added or removed takes effect for the next packet. */
  async reconcile(peers: readonly Lease[], _signal: AbortSignal): Promise<void> {
    if (this.#own === undefined) throw new Error('udp backend: reconcile() called before activate()');
    const set = udpPeers(peers, { subnet: this.#own });
    this.#peers.set(set.peers);
    const note = `${set.peers.map((p) => p.key).join(',')}|${set.otherType.join(',')}|${set.problems.map((p) => p.message).join(',')}`;
    if (note === this.#reported) return;
    this.#reported = note;
    const { log } = this.#ctx;
    log.info({ peers: set.peers.length }, 'udp peers');
    if (set.otherType.length > 0) log.info({ leases: set.otherType }, 'ignoring peers whose BackendType is neither "" nor udp');
    for (const p of set.problems) log.warn({ field: p.field, value: p.value }, `skipping peer: ${p.message}`);
  }

  #close(): void {
    this.#socket?.close();
    if (this.#device) this.#addon.close(this.#device.handle);
    this.#socket = undefined;
    this.#ctx.log.info('udp backend: flannel0 closed');
  }
}

function bind(socket: Socket, address: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ address, port, exclusive: true }, () => {
      socket.off('error', reject);
      resolve();
    });
  });
}
