// The IPv4 bits of flannel's udp proxy (pkg/backend/udp/proxy_amd64.c), pure and
// allocation-free on the hot path: the packet is looked at in place, at `off` in
// a shared slab, so a batch read from the TUN is never copied to be inspected.
// Offsets are the IPv4 header's (RFC 791); all numbers are network byte order.

export const IPV4_MIN_HEADER = 20;
/** flannel answers no offender whose header is this long or longer (it copies into a 60-byte header slot). */
const MAX_OFFENDER_HEADER = 60;
const PROTO_ICMP = 1;
/** flannel's TTL for the net-unreachable answer. */
const UNREACHABLE_TTL = 8;

/** Header length in bytes when `buf[off…off+len)` starts like an IPv4 packet (version 4, IHL ≥ 5, within len), else 0. */
export function ipv4HeaderLength(buf: Uint8Array, off: number, len: number): number {
  if (len < IPV4_MIN_HEADER) return 0;
  const b0 = buf[off]!;
  if (b0 >> 4 !== 4) return 0;
  const ihl = (b0 & 0x0f) * 4;
  return ihl < IPV4_MIN_HEADER || ihl > len ? 0 : ihl;
}

/** The destination address as an unsigned 32-bit number. */
export function ipv4Destination(buf: Uint8Array, off: number): number {
  return ((buf[off + 16]! << 24) | (buf[off + 17]! << 16) | (buf[off + 18]! << 8) | buf[off + 19]!) >>> 0;
}

/**
 * Decrements the TTL and patches the header checksum incrementally (RFC 1624,
 * as Linux's ip_decrease_ttl): the TTL is the high byte of header word 4, so the
 * checksum grows by 0x0100 with an end-around carry. Returns false — and changes
 * nothing — when the TTL would reach 0: the packet is dropped, as flannel does
 * (no Time Exceeded).
 */
export function decrementTtl(buf: Uint8Array, off: number): boolean {
  const ttl = buf[off + 8]!;
  if (ttl <= 1) return false;
  buf[off + 8] = ttl - 1;
  let check = ((buf[off + 10]! << 8) | buf[off + 11]!) + 0x0100;
  check = (check + (check >= 0xffff ? 1 : 0)) & 0xffff;
  buf[off + 10] = check >> 8;
  buf[off + 11] = check & 0xff;
  return true;
}

/** The Internet checksum (RFC 1071) of buf[off…off+len). */
export function internetChecksum(buf: Uint8Array, off: number, len: number): number {
  let sum = 0;
  for (let i = 0; i + 1 < len; i += 2) sum += (buf[off + i]! << 8) | buf[off + i + 1]!;
  if (len % 2 === 1) sum += buf[off + len - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** flannel's rule: no answer to ICMP (no ICMP about ICMP), to a non-first fragment, or to a header of 60 bytes or more. */
export function answersUnreachable(buf: Uint8Array, off: number, headerLength: number): boolean {
  const fragmentOffset = ((buf[off + 6]! << 8) | buf[off + 7]!) & 0x1fff;
  return buf[off + 9] !== PROTO_ICMP && fragmentOffset === 0 && headerLength < MAX_OFFENDER_HEADER;
}

/**
 * ICMP destination unreachable, code 0 (net unreachable), as flannel writes it back
 * into the TUN: from `source` (the flannel0 address) to the offender's source,
 * TTL 8, quoting the offender's header and the first 8 bytes after it (fewer if
 * the packet is shorter).
 */
export function netUnreachable(offender: Uint8Array, off: number, len: number, headerLength: number, source: number): Buffer {
  const quoted = Math.min(len, headerLength + 8);
  const out = Buffer.alloc(IPV4_MIN_HEADER + 8 + quoted);
  out[0] = 0x45;
  out.writeUInt16BE(out.length, 2);
  out[8] = UNREACHABLE_TTL;
  out[9] = PROTO_ICMP;
  out.writeUInt32BE(source, 12);
  out.set(offender.subarray(off + 12, off + 16), 16); // to the offender's source
  out.writeUInt16BE(internetChecksum(out, 0, IPV4_MIN_HEADER), 10);
  out[20] = 3; // destination unreachable
  out[21] = 0; // net unreachable
  out.set(offender.subarray(off, off + quoted), 28);
  out.writeUInt16BE(internetChecksum(out, 20, out.length - 20), 22);
  return out;
}
