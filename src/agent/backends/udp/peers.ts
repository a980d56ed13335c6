// Which leases are udp peers and where their packets go. flannel's proxy scans a
// list for the first subnet that holds the destination; leases never overlap, so
// longest prefix (what this table does, one Map per prefix length) finds the same
// peer in one or two lookups instead of a scan.
import { InvalidInputError, errorMessage } from '../../../errors.ts';
import type { Lease } from '../../../lease/lease.ts';
import { networkAddr } from '../../../net/cidr.ts';
import { type OwnSubnets, isOwnLease, peerAddress } from '../peer.ts';

/**
 * flannel publishes a udp lease with no BackendType at all (Go's omitempty), so
 * "" is a udp peer here, as is "udp". Only for udp hosts: vxlan and host-gw hosts
 * still ignore both (peer.ts judgePeer compares the type exactly).
 */
export const UDP_LEASE_TYPES: ReadonlySet<string> = new Set(['', 'udp']);

export interface UdpPeer {
  readonly key: string;
  /** The subnet's network address and prefix length (IPv4 only: flannel's udp has no IPv6). */
  readonly network: number;
  readonly prefix: number;
  /** The lease's PublicIP: where this host sends, at its own configured port. */
  readonly address: string;
}

export interface UdpPeerSet {
  readonly peers: readonly UdpPeer[];
  /** Leases of another BackendType, ignored. */
  readonly otherType: readonly string[];
  readonly problems: readonly InvalidInputError[];
}

/** The udp peers among `leases` (this host's own lease excluded). */
export function udpPeers(leases: readonly Lease[], own: OwnSubnets): UdpPeerSet {
  const peers: UdpPeer[] = [];
  const otherType: string[] = [];
  const problems: InvalidInputError[] = [];
  for (const lease of leases) {
    if (isOwnLease(lease, own)) continue;
    if (!UDP_LEASE_TYPES.has(lease.attrs.backendType)) {
      otherType.push(lease.key);
      continue;
    }
    try {
      peers.push({ key: lease.key, network: Number(networkAddr(lease.subnet)), prefix: lease.subnet.prefix, address: peerAddress(lease, 4) });
    } catch (err) {
      problems.push(err instanceof InvalidInputError ? err : new InvalidInputError(`lease ${lease.key}`, undefined, errorMessage(err)));
    }
  }
  return { peers, otherType, problems };
}

interface PrefixTable {
  readonly mask: number;
  readonly peers: Map<number, string>;
}

/** Destination → peer address by longest prefix; replaced whole on every lease change. */
export class PeerTable {
  #tables: readonly PrefixTable[] = [];
  #size = 0;

  get size(): number {
    return this.#size;
  }

  set(peers: readonly UdpPeer[]): void {
    const byPrefix = new Map<number, Map<number, string>>();
    for (const p of peers) {
      let m = byPrefix.get(p.prefix);
      if (!m) byPrefix.set(p.prefix, (m = new Map<number, string>()));
      m.set((p.network & maskOf(p.prefix)) >>> 0, p.address);
    }
    this.#tables = [...byPrefix.entries()].sort((a, b) => b[0] - a[0]).map(([prefix, m]) => ({ mask: maskOf(prefix), peers: m }));
    this.#size = peers.length;
  }

  /** The peer address for an IPv4 destination (unsigned 32-bit), or undefined. */
  lookup(dst: number): string | undefined {
    for (const t of this.#tables) {
      const hit = t.peers.get((dst & t.mask) >>> 0);
      if (hit !== undefined) return hit;
    }
    return undefined;
  }
}

function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}
