import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  answersUnreachable, decrementTtl, internetChecksum, ipv4Destination, ipv4HeaderLength, netUnreachable,
} from './packet.ts';

/** An IPv4 header (+ payload) with a correct checksum. */
function packet(o: { ttl?: number; proto?: number; frag?: number; ihl?: number; payload?: number; src?: number[]; dst?: number[]; version?: number } = {}): Buffer {
  const ihl = o.ihl ?? 5;
  const buf = Buffer.alloc(ihl * 4 + (o.payload ?? 8), 0xab);
  buf.fill(0, 0, ihl * 4);
  buf[0] = ((o.version ?? 4) << 4) | ihl;
  buf.writeUInt16BE(buf.length, 2);
  buf.writeUInt16BE(o.frag ?? 0, 6);
  buf[8] = o.ttl ?? 64;
  buf[9] = o.proto ?? 6;
  buf.set(o.src ?? [10, 5, 1, 10], 12);
  buf.set(o.dst ?? [10, 5, 2, 10], 16);
  buf.writeUInt16BE(internetChecksum(buf, 0, ihl * 4), 10);
  return buf;
}

const headerValid = (buf: Uint8Array, off = 0): boolean => internetChecksum(buf, off, (buf[off]! & 0xf) * 4) === 0;

describe('decrementTtl', () => {
  const cases: Array<{ description: string; ttl: number; want: number | 'dropped' }> = [
    { description: 'TTL 64 → 63', ttl: 64, want: 63 },
    { description: 'TTL 255 → 254', ttl: 255, want: 254 },
    { description: 'TTL 2 → 1 (still forwarded)', ttl: 2, want: 1 },
    { description: 'TTL 1 would reach 0: dropped, packet unchanged', ttl: 1, want: 'dropped' },
    { description: 'TTL 0 (already dead): dropped, never wrapped to 255', ttl: 0, want: 'dropped' },
  ];
  for (const c of cases) {
    it(c.description, () => {
      const buf = packet({ ttl: c.ttl });
      const before = Buffer.from(buf);
      const kept = decrementTtl(buf, 0);
      if (c.want === 'dropped') {
        assert.equal(kept, false);
        assert.deepEqual(buf, before);
        return;
      }
      assert.equal(kept, true);
      assert.equal(buf[8], c.want);
      assert.ok(headerValid(buf), 'the patched checksum verifies');
    });
  }

  it('every TTL and many headers: the incremental patch always verifies (end-around carry)', () => {
    for (let seed = 0; seed < 2000; seed++) {
      const buf = packet({ ttl: 2 + (seed % 254), src: [seed & 255, (seed * 7) & 255, 1, 2], dst: [10, (seed * 13) & 255, 3, seed & 255], frag: seed * 31 });
      assert.ok(decrementTtl(buf, 0));
      assert.ok(headerValid(buf), `seed ${seed}`);
    }
  });

  it('works at an offset inside a slab', () => {
    const slab = Buffer.alloc(100);
    packet({ ttl: 9 }).copy(slab, 40);
    assert.ok(decrementTtl(slab, 40));
    assert.equal(slab[48], 8);
    assert.ok(headerValid(slab, 40));
  });
});

describe('ipv4HeaderLength', () => {
  const cases: Array<{ description: string; buf: Buffer; len?: number; want: number }> = [
    { description: 'a plain IPv4 header', buf: packet(), want: 20 },
    { description: 'with options (IHL 6)', buf: packet({ ihl: 6 }), want: 24 },
    { description: 'IPv6 (version 6): not IPv4', buf: packet({ version: 6 }), want: 0 },
    { description: 'shorter than 20 bytes', buf: packet().subarray(0, 19), want: 0 },
    { description: 'IHL below 5', buf: packet({ ihl: 4, payload: 20 }), want: 0 },
    { description: 'IHL beyond the datagram', buf: packet({ ihl: 15, payload: 0 }).subarray(0, 40), want: 0 },
  ];
  for (const c of cases) it(c.description, () => assert.equal(ipv4HeaderLength(c.buf, 0, c.len ?? c.buf.length), c.want));
});

describe('ipv4Destination', () => {
  it('reads the destination as an unsigned number', () => {
    assert.equal(ipv4Destination(packet({ dst: [250, 1, 2, 3] }), 0), 0xfa010203);
  });
});

describe('answersUnreachable', () => {
  const cases: Array<{ description: string; buf: Buffer; want: boolean }> = [
    { description: 'TCP, first fragment: answered', buf: packet({ proto: 6 }), want: true },
    { description: 'UDP with the more-fragments bit, offset 0: answered', buf: packet({ proto: 17, frag: 0x2000 }), want: true },
    { description: 'ICMP: never (no ICMP about ICMP)', buf: packet({ proto: 1 }), want: false },
    { description: 'a non-first fragment: never', buf: packet({ proto: 17, frag: 0x2000 | 185 }), want: false },
    { description: 'a 60-byte header: never (flannel treats it as malformed)', buf: packet({ ihl: 15 }), want: false },
  ];
  for (const c of cases) it(c.description, () => assert.equal(answersUnreachable(c.buf, 0, (c.buf[0]! & 0xf) * 4), c.want));
});

describe('netUnreachable', () => {
  const offender = packet({ proto: 6, src: [10, 5, 1, 10], dst: [10, 5, 99, 1], payload: 100 });
  const answer = netUnreachable(offender, 0, offender.length, 20, 0x0a050100);

  it('is ICMP type 3 code 0 from the flannel0 address to the offender\'s source, TTL 8', () => {
    assert.equal(answer[0], 0x45);
    assert.equal(answer[8], 8);
    assert.equal(answer[9], 1);
    assert.deepEqual([...answer.subarray(12, 16)], [10, 5, 1, 0]);
    assert.deepEqual([...answer.subarray(16, 20)], [10, 5, 1, 10]);
    assert.equal(answer.readUInt16BE(2), answer.length);
    assert.deepEqual([answer[20], answer[21]], [3, 0]);
  });

  it('quotes the offender\'s header and 8 bytes, with valid checksums', () => {
    assert.equal(answer.length, 20 + 8 + 28);
    assert.deepEqual(answer.subarray(28), offender.subarray(0, 28));
    assert.ok(headerValid(answer));
    assert.equal(internetChecksum(answer, 20, answer.length - 20), 0);
  });

  it('quotes less when the offender is shorter, and reads it at an offset', () => {
    const slab = Buffer.alloc(64);
    const short = packet({ payload: 3 });
    short.copy(slab, 10);
    const a = netUnreachable(slab, 10, short.length, 20, 1);
    assert.equal(a.length, 20 + 8 + 23);
    assert.deepEqual(a.subarray(28), short);
    assert.equal(internetChecksum(a, 20, a.length - 20), 0);
  });
});
