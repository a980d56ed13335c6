// IPv4/IPv6 prefixes as (family, bigint address, prefix length). Parsing and
// formatting go through ipaddr.js; the arithmetic is ours and works the same for
// both families, so the allocator has one code path.
import ipaddr from 'ipaddr.js';
import { InvalidInputError } from '../errors.ts';

export type Family = 4 | 6;

export interface Cidr {
  readonly family: Family;
  readonly addr: bigint;
  readonly prefix: number;
}

export function bitsOf(family: Family): number {
  return family === 4 ? 32 : 128;
}

/** Canonical dotted-decimal IPv4 (no leading zeros): parsed by arithmetic, the hot path at 5,000 peers. */
const DOTTED_QUAD = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

export function parseIp(text: string, field = 'address'): { family: Family; addr: bigint } {
  const m = typeof text === 'string' ? DOTTED_QUAD.exec(text) : null;
  if (m) return { family: 4, addr: BigInt(((Number(m[1]) << 24) >>> 0) + (Number(m[2]) << 16) + (Number(m[3]) << 8) + Number(m[4])) };
  if (typeof text !== 'string' || !ipaddr.isValid(text)) {
    throw new InvalidInputError(field, text, 'not an IP address');
  }
  const parsed = ipaddr.parse(text);
  const family: Family = parsed.kind() === 'ipv4' ? 4 : 6;
  return { family, addr: bytesToBigint(parsed.toByteArray()) };
}

export function formatIp(family: Family, addr: bigint): string {
  const bytes = bigintToBytes(addr, bitsOf(family) / 8);
  const ip = ipaddr.fromByteArray(bytes);
  return ip instanceof ipaddr.IPv6 ? ip.toRFC5952String() : ip.toString();
}

/** Parses "10.0.0.0/16" or "fc00::/48". Host bits must be zero unless `allowHostBits`. */
export function parseCidr(text: string, field = 'cidr', opts: { allowHostBits?: boolean } = {}): Cidr {
  if (typeof text !== 'string') throw new InvalidInputError(field, text, 'not a CIDR string');
  const slash = text.indexOf('/');
  if (slash < 0) throw new InvalidInputError(field, text, 'not a CIDR (missing /prefix)');
  const { family, addr } = parseIp(text.slice(0, slash), field);
  const prefixText = text.slice(slash + 1);
  const prefix = Number(prefixText);
  if (!/^\d{1,3}$/.test(prefixText) || prefix > bitsOf(family)) {
    throw new InvalidInputError(field, text, `prefix length must be 0..${bitsOf(family)}`);
  }
  const cidr = { family, addr, prefix };
  if (!opts.allowHostBits && networkAddr(cidr) !== addr) {
    throw new InvalidInputError(field, text, `host bits are set; did you mean ${formatCidr(normalize(cidr))}?`);
  }
  return opts.allowHostBits ? cidr : normalize(cidr);
}

export function formatCidr(cidr: Cidr): string {
  return `${formatIp(cidr.family, cidr.addr)}/${cidr.prefix}`;
}

export function hostMask(cidr: Pick<Cidr, 'family' | 'prefix'>): bigint {
  return (1n << BigInt(bitsOf(cidr.family) - cidr.prefix)) - 1n;
}

export function networkAddr(cidr: Cidr): bigint {
  return cidr.addr & ~hostMask(cidr);
}

export function normalize(cidr: Cidr): Cidr {
  return { family: cidr.family, addr: networkAddr(cidr), prefix: cidr.prefix };
}

export function lastAddr(cidr: Cidr): bigint {
  return networkAddr(cidr) | hostMask(cidr);
}

/** Number of addresses in the block. */
export function size(cidr: Pick<Cidr, 'family' | 'prefix'>): bigint {
  return 1n << BigInt(bitsOf(cidr.family) - cidr.prefix);
}

/** True when `inner` lies wholly inside `outer`. */
export function contains(outer: Cidr, inner: Cidr): boolean {
  return (
    outer.family === inner.family &&
    inner.prefix >= outer.prefix &&
    networkAddr({ ...inner, prefix: outer.prefix }) === networkAddr(outer)
  );
}

export function containsIp(outer: Cidr, family: Family, addr: bigint): boolean {
  return contains(outer, { family, addr, prefix: bitsOf(family) });
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return contains(a, b) || contains(b, a);
}

export function equalCidr(a: Cidr, b: Cidr): boolean {
  return a.family === b.family && a.prefix === b.prefix && a.addr === b.addr;
}

/** The block of the same size right after `cidr`. */
export function nextBlock(cidr: Cidr): Cidr {
  return { family: cidr.family, addr: networkAddr(cidr) + size(cidr), prefix: cidr.prefix };
}

/** The first usable host address (network + 1), as flannel writes FLANNEL_SUBNET. */
export function firstHost(cidr: Cidr): string {
  return formatIp(cidr.family, networkAddr(cidr) + 1n);
}

function bytesToBigint(bytes: number[]): bigint {
  let value = 0n;
  for (const b of bytes) value = (value << 8n) | BigInt(b);
  return value;
}

function bigintToBytes(value: bigint, length: number): number[] {
  const bytes = new Array<number>(length);
  for (let i = length - 1; i >= 0; i--) {
    bytes[i] = Number(value & 0xffn);
    value >>= 8n;
  }
  return bytes;
}
