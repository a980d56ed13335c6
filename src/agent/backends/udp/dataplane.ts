// The udp data path, flannel's proxy in the agent process: packets read from
// flannel0 in batches (one JavaScript call per batch, see src/kernel/tun) go to
// the peer whose lease holds their destination, one bare IPv4 packet per UDP
// datagram; datagrams from peers go into flannel0, one write per packet. Nothing
// here throws at a packet: whatever is dropped is counted by reason.
import type { TunAddon, TunHandle } from '../../../kernel/tun/addon.ts';
import {
  answersUnreachable, decrementTtl, ipv4Destination, ipv4HeaderLength, netUnreachable,
} from './packet.ts';
import type { PeerTable } from './peers.ts';

/** Per-packet counters, read by the metrics collector at scrape time (no per-packet label lookups). */
export class UdpCounters {
  txPackets = 0;
  rxPackets = 0;
  /** Read from flannel0 but not IPv4 (IPv6 the kernel sends anyway, garbage). */
  txNotIpv4 = 0;
  /** Larger than flannel0's MTU: never sent (a flannel peer would truncate it). */
  txTooBig = 0;
  /** No lease holds the destination: answered with ICMP net unreachable where flannel would. */
  txNoPeer = 0;
  txTtl = 0;
  /** Datagrams that are no IPv4 packet (short, wrong version, bad header length). */
  rxBad = 0;
  rxTtl = 0;
  /** Send errors reported by the socket, writes the TUN refused. */
  sendErrors = 0;
  tunWriteErrors = 0;
  pollErrors = 0;
}

/** What the data path needs of a node:dgram socket (a fake in the unit tests). */
export interface DatagramSocket {
  on(event: 'message', listener: (msg: Buffer) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  send(msg: Buffer, port: number, address: string): void;
}

export interface DataPlaneOptions {
  readonly addon: TunAddon;
  readonly tun: TunHandle;
  readonly socket: DatagramSocket;
  readonly peers: PeerTable;
  /** The peers' port: flannel sends to every peer at its own configured port. */
  readonly port: number;
  readonly mtu: number;
  /** flannel0's address (unsigned 32-bit): the source of ICMP net unreachable. */
  readonly tunAddress: number;
  readonly counters: UdpCounters;
  /** Packets per batch (the slab holds this many slots). */
  readonly batch?: number | undefined;
}

export class UdpDataPlane {
  readonly #o: DataPlaneOptions;
  readonly #slab: Buffer;
  readonly #lengths: Int32Array;
  /** One byte over the MTU, rounded up: a packet too big for the MTU reads as `slot` bytes and is dropped, never cut to fit. */
  readonly #slot: number;

  constructor(o: DataPlaneOptions) {
    this.#o = o;
    const batch = o.batch ?? 64;
    this.#slot = Math.ceil((o.mtu + 1) / 64) * 64;
    this.#slab = Buffer.allocUnsafeSlow(this.#slot * batch);
    this.#lengths = new Int32Array(batch);
  }

  start(): void {
    const { addon, tun, socket, counters } = this.#o;
    socket.on('message', (msg) => this.#fromPeer(msg));
    // Without a send callback dgram reports send errors here (a peer's host gone): count, never crash.
    socket.on('error', () => { counters.sendErrors++; });
    addon.poll(tun, this.#slab, this.#lengths, this.#slot, (count) => this.#fromTun(count));
  }

  #fromTun(count: number): void {
    const { counters } = this.#o;
    if (count < 0) {
      counters.pollErrors++;
      return;
    }
    for (let i = 0; i < count; i++) this.#send(i * this.#slot, this.#lengths[i]!);
  }

  #send(off: number, len: number): void {
    const { counters, peers, mtu } = this.#o;
    const slab = this.#slab;
    const header = ipv4HeaderLength(slab, off, len);
    if (header === 0) {
      counters.txNotIpv4++;
      return;
    }
    if (len > mtu) {
      counters.txTooBig++;
      return;
    }
    const peer = peers.lookup(ipv4Destination(slab, off));
    if (peer === undefined) {
      counters.txNoPeer++;
      if (answersUnreachable(slab, off, header)) this.#toTun(netUnreachable(slab, off, len, header, this.#o.tunAddress));
      return;
    }
    if (!decrementTtl(slab, off)) {
      counters.txTtl++;
      return;
    }
    // dgram may queue the datagram (EAGAIN) and read it later, after the slab is
    // reused by the next batch: send a copy (measured: no slower than a slice).
    const copy = Buffer.allocUnsafe(len);
    slab.copy(copy, 0, off, off + len);
    this.#o.socket.send(copy, this.#o.port, peer);
    counters.txPackets++;
  }

  #fromPeer(msg: Buffer): void {
    const { counters } = this.#o;
    if (ipv4HeaderLength(msg, 0, msg.length) === 0) {
      counters.rxBad++;
      return;
    }
    if (!decrementTtl(msg, 0)) {
      counters.rxTtl++;
      return;
    }
    if (this.#toTun(msg)) counters.rxPackets++;
  }

  #toTun(packet: Buffer): boolean {
    const written = this.#o.addon.write(this.#o.tun, packet, 0, packet.length);
    if (written < 0) this.#o.counters.tunWriteErrors++;
    return written >= 0;
  }
}
