// The kernel objects tartan programs for peers, as plain data. Every object has a
// key (the kernel's identity for it: what `replace` overwrites and `del` removes)
// and a value compared to decide whether an existing object must be replaced.
import { type Cidr, formatCidr } from '../net/cidr.ts';

/**
 * The route protocol number on every route tartan installs (`proto 116`).
 *
 * Why 116: it is not in the kernel's rtnetlink.h list (0–18, 42, 99, 186–192) nor
 * in iproute2's /etc/iproute2/rt_protos, and the CNI plugins we know of use other
 * numbers (BIRD 12, Calico/felix 80, flannel the default `boot` 3, most others
 * `kernel`/`boot`/`static`). A number of our own is the ownership mark that lets
 * tartan delete its stale routes at start (peers that left while it was down,
 * flannel #2554) without touching a route anybody else made. Never flush.
 */
export const TARTAN_ROUTE_PROTO = 116;

export interface RouteObject {
  readonly kind: 'route';
  /** Destination prefix in canonical text (`10.5.2.0/24`, `fd00:5:2::/64`). */
  readonly dst: string;
  readonly via: string;
  readonly dev: string;
  /** `onlink`: the gateway need not be on a connected network (vxlan via the peer's subnet address). */
  readonly onlink: boolean;
  /** Only set on observed routes with a metric other than the family's default; they are never desired. */
  readonly metric?: number | undefined;
}

export interface NeighObject {
  readonly kind: 'neigh';
  readonly dev: string;
  readonly ip: string;
  readonly mac: string;
}

export interface FdbObject {
  readonly kind: 'fdb';
  readonly dev: string;
  readonly mac: string;
  /** Underlay address of the VTEP (the peer's PublicIP). */
  readonly dst: string;
}

export type KernelObject = RouteObject | NeighObject | FdbObject;

export function objectKey(o: KernelObject): string {
  switch (o.kind) {
    case 'route':
      return o.metric === undefined ? `route ${o.dst}` : `route ${o.dst} metric ${o.metric}`;
    case 'neigh':
      return `neigh ${o.dev} ${o.ip}`;
    case 'fdb':
      return `fdb ${o.dev} ${o.mac}`;
  }
}

export function routeKey(dst: string): string {
  return `route ${dst}`;
}

/** True when `b` can stay in place of `a` (same key assumed). */
export function sameObject(a: KernelObject, b: KernelObject): boolean {
  switch (a.kind) {
    case 'route':
      return b.kind === 'route' && a.via === b.via && a.dev === b.dev && a.onlink === b.onlink && a.metric === b.metric;
    case 'neigh':
      return b.kind === 'neigh' && a.mac === b.mac;
    case 'fdb':
      return b.kind === 'fdb' && a.dst === b.dst;
  }
}

/** One line for logs: `route 10.5.2.0/24 via 10.5.2.0 dev flannel.1 onlink`. */
export function describeObject(o: KernelObject): string {
  switch (o.kind) {
    case 'route':
      return `route ${o.dst} via ${o.via} dev ${o.dev}${o.onlink ? ' onlink' : ''}${o.metric === undefined ? '' : ` metric ${o.metric}`}`;
    case 'neigh':
      return `neigh ${o.ip} lladdr ${o.mac} dev ${o.dev}`;
    case 'fdb':
      return `fdb ${o.mac} dst ${o.dst} dev ${o.dev}`;
  }
}

/**
 * Canonical prefix text. IPv4 takes a fast path: the one-peer-added latency budget
 * covers turning every peer lease into objects, and bigint formatting is slow.
 */
export function prefixText(c: Cidr): string {
  if (c.family === 4) return `${ipv4Text(c.addr)}/${c.prefix}`;
  return formatCidr(c);
}

export function ipv4Text(addr: bigint): string {
  const n = Number(addr);
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/** Lower-case `aa:bb:cc:dd:ee:ff`, or undefined if `text` is not a MAC address. */
export function normalizeMac(text: string): string | undefined {
  const mac = text.toLowerCase();
  return MAC.test(mac) ? mac : undefined;
}

/** A unicast MAC other than all-zero: usable as a VTEP address. */
export function isUnicastMac(mac: string): boolean {
  const first = parseInt(mac.slice(0, 2), 16);
  return (first & 1) === 0 && mac !== '00:00:00:00:00:00';
}
