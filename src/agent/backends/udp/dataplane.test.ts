import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TunAddon, TunHandle } from '../../../kernel/tun/addon.ts';
import { type DatagramSocket, UdpCounters, UdpDataPlane } from './dataplane.ts';
import { internetChecksum } from './packet.ts';
import { PeerTable } from './peers.ts';

const ip = (text: string): number => text.split('.').reduce((n, o) => n * 256 + Number(o), 0);

function packet(o: { dst?: string; ttl?: number; proto?: number; size?: number; version?: number } = {}): Buffer {
  const buf = Buffer.alloc(o.size ?? 60);
  buf[0] = ((o.version ?? 4) << 4) | 5;
  buf.writeUInt16BE(buf.length, 2);
  buf[8] = o.ttl ?? 64;
  buf[9] = o.proto ?? 17;
  buf.writeUInt32BE(ip('10.5.1.10'), 12);
  buf.writeUInt32BE(ip(o.dst ?? '10.5.2.10'), 16);
  buf.writeUInt16BE(internetChecksum(buf, 0, 20), 10);
  return buf;
}

/** A TUN and a socket that record what the data path does with them: no I/O. */
function world(mtu = 1472) {
  let onBatch: (count: number) => void = () => undefined;
  let slab: Buffer = Buffer.alloc(0);
  let lengths: Int32Array = new Int32Array(0);
  let slot = 0;
  const tunWrites: Buffer[] = [];
  const sent: Array<{ msg: Buffer; port: number; address: string }> = [];
  const listeners = new Map<string, (arg: never) => void>();
  const addon: TunAddon = {
    open: () => { throw new Error('not here'); },
    poll: (_h, s, l, sl, cb) => { slab = s; lengths = l; slot = sl; onBatch = cb; },
    write: (_h, buf, off, len) => { tunWrites.push(Buffer.from(buf.subarray(off, off + len))); return len; },
    close: () => undefined,
  };
  const socket: DatagramSocket = {
    on: (event: string, listener: (arg: never) => void) => listeners.set(event, listener),
    send: (msg, port, address) => { sent.push({ msg, port, address }); },
  };
  const peers = new PeerTable();
  peers.set([{ key: '10.5.2.0-24', network: ip('10.5.2.0'), prefix: 24, address: '192.168.1.2' }]);
  const counters = new UdpCounters();
  new UdpDataPlane({ addon, tun: {} as TunHandle, socket, peers, port: 8285, mtu, tunAddress: ip('10.5.1.0'), counters, batch: 4 }).start();
  return {
    counters, tunWrites, sent,
    /** The addon read these packets from flannel0 in one batch. */
    fromTun: (...packets: Buffer[]) => {
      packets.forEach((p, i) => { p.copy(slab, i * slot, 0, Math.min(p.length, slot)); lengths[i] = Math.min(p.length, slot); });
      onBatch(packets.length);
    },
    fromPeer: (msg: Buffer) => (listeners.get('message') as (m: Buffer) => void)(msg),
  };
}

describe('UdpDataPlane: flannel0 → peers', () => {
  it('one batch: each packet bare in its own datagram to its peer at the configured port, TTL − 1', () => {
    const w = world();
    w.fromTun(packet({ ttl: 64 }), packet({ ttl: 10, size: 1472 }));
    assert.deepEqual(w.sent.map((s) => [s.address, s.port, s.msg.length, s.msg[8]]), [['192.168.1.2', 8285, 60, 63], ['192.168.1.2', 8285, 1472, 9]]);
    assert.equal(internetChecksum(w.sent[0]!.msg, 0, 20), 0);
    assert.equal(w.counters.txPackets, 2);
  });

  it('a sent datagram is a copy: the next batch reusing the slab does not change it', () => {
    const w = world();
    w.fromTun(packet({ ttl: 64 }));
    w.fromTun(packet({ ttl: 5 }));
    assert.deepEqual(w.sent.map((s) => s.msg[8]), [63, 4]);
  });

  const drops: Array<{ description: string; packet: Buffer; counter: keyof UdpCounters; icmp: boolean }> = [
    { description: 'IPv6 (the kernel sends some): dropped', packet: packet({ version: 6 }), counter: 'txNotIpv4', icmp: false },
    { description: 'larger than the MTU: never sent (read as slot bytes, not cut to fit)', packet: packet({ size: 1473 }), counter: 'txTooBig', icmp: false },
    { description: 'TTL 1: dropped silently', packet: packet({ ttl: 1 }), counter: 'txTtl', icmp: false },
    { description: 'unknown subnet, UDP: ICMP net unreachable into flannel0', packet: packet({ dst: '10.5.9.1' }), counter: 'txNoPeer', icmp: true },
    { description: 'unknown subnet, ICMP: no answer', packet: packet({ dst: '10.5.9.1', proto: 1 }), counter: 'txNoPeer', icmp: false },
  ];
  for (const c of drops) {
    it(c.description, () => {
      const w = world();
      w.fromTun(c.packet);
      assert.deepEqual(w.sent, []);
      assert.equal(w.counters[c.counter], 1);
      assert.equal(w.tunWrites.length, c.icmp ? 1 : 0);
      if (c.icmp) {
        const answer = w.tunWrites[0]!;
        assert.deepEqual([answer[9], answer[20], answer[21], answer.readUInt32BE(12), answer.readUInt32BE(16)], [1, 3, 0, ip('10.5.1.0'), ip('10.5.1.10')]);
      }
    });
  }
});

describe('UdpDataPlane: peers → flannel0', () => {
  it('an IPv4 datagram goes into flannel0 with TTL − 1 and a valid checksum', () => {
    const w = world();
    w.fromPeer(packet({ dst: '10.5.1.10', ttl: 62 }));
    assert.equal(w.tunWrites.length, 1);
    assert.equal(w.tunWrites[0]![8], 61);
    assert.equal(internetChecksum(w.tunWrites[0]!, 0, 20), 0);
    assert.equal(w.counters.rxPackets, 1);
  });

  const bad: Array<{ description: string; msg: Buffer; counter: keyof UdpCounters }> = [
    { description: 'shorter than an IPv4 header', msg: Buffer.from('not ip'), counter: 'rxBad' },
    { description: 'not version 4', msg: packet({ version: 6 }), counter: 'rxBad' },
    { description: 'TTL 1', msg: packet({ ttl: 1 }), counter: 'rxTtl' },
  ];
  for (const c of bad) {
    it(`${c.description}: counted and dropped, nothing written`, () => {
      const w = world();
      w.fromPeer(c.msg);
      assert.equal(w.tunWrites.length, 0);
      assert.equal(w.counters[c.counter], 1);
    });
  }
});
