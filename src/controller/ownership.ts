// Which observed routes are tartan's, from the ownership ledger. Pure.
//
// A provider that cannot mark routes (AWS: `marksRoutes` false) lists as "owned"
// every route that looks like tartan's (origin CreateRoute, inside the Network, to
// an instance). Here that becomes: owned when the ledger has it, or when it is
// exactly a current lease's desired route (adoption: made before the ledger
// existed, or by a leader that died between the call and the record); every other
// such route is foreign — reported as a conflict, never changed. Where the cloud
// marks routes itself the mark stays the rule; the ledger is brought in line with it.
import { routedIn } from '../lease/hybrid.ts';
import { type LedgerEntry, ledgerKey } from '../lease/ledger.ts';
import type { Lease } from '../lease/lease.ts';
import { formatCidr } from '../net/cidr.ts';
import { type NextHop, type RouteEntry, routesTo } from '../../providers/route-table.ts';
import type { ObservedTable } from './observe.ts';

export interface OwnershipInput {
  readonly tables: readonly ObservedTable[];
  readonly ledger: ReadonlyMap<string, LedgerEntry>;
  /** Destination → the next hop its lease wants (leases this controller routes). */
  readonly desired: ReadonlyMap<string, NextHop>;
  /** The provider marks its routes (GCE, Alibaba): its `owned` stands. */
  readonly marks: boolean;
  /** ISO time for new records. */
  readonly now: string;
}

export interface Ownership {
  readonly tables: ObservedTable[];
  /** Routes now known to be tartan's that the ledger lacks: record them (confirmed). */
  readonly adopt: LedgerEntry[];
  /** Ledger keys whose route is in no observed listing: the route is gone, forget the entry (unless re-created this pass). */
  readonly gone: string[];
}

/** Destination → the next hop its lease wants, for the leases this controller routes (the adoption rule's "exactly"). */
export function desiredNextHops(leases: readonly Lease[], nextHops: ReadonlyMap<string, NextHop>, routeDomain?: string): Map<string, NextHop> {
  const desired = new Map<string, NextHop>();
  const routed = routedIn(routeDomain);
  for (const l of leases) {
    const hop = routed(l) ? nextHops.get(l.attrs.publicIp) : undefined;
    if (hop) desired.set(formatCidr(l.subnet), hop);
  }
  return desired;
}

export function applyLedger(input: OwnershipInput): Ownership {
  const adopt: LedgerEntry[] = [];
  const seen = new Set<string>();
  const tables = input.tables.map((t): ObservedTable => {
    const owned: RouteEntry[] = [];
    const foreign: RouteEntry[] = [...t.listing.foreign];
    for (const r of t.listing.owned) {
      const key = ledgerKey(t.table, r.destination);
      seen.add(key);
      const recorded = input.ledger.has(key);
      const want = input.desired.get(r.destination);
      const exact = want !== undefined && routesTo(r, want);
      if (input.marks || recorded || exact) {
        owned.push(r);
        if (!recorded && r.nextHop) adopt.push({ table: t.table, destination: r.destination, nextHop: r.nextHop, state: 'confirmed', time: input.now });
      } else {
        foreign.push({ ...r, owned: false });
      }
    }
    for (const r of t.listing.foreign) seen.add(ledgerKey(t.table, r.destination));
    return { ...t, listing: { owned, foreign } };
  });
  const observedTables = new Set(input.tables.map((t) => t.table));
  const gone = [...input.ledger.values()].filter((e) => observedTables.has(e.table) && !seen.has(ledgerKey(e.table, e.destination))).map((e) => ledgerKey(e.table, e.destination));
  return { tables, adopt, gone };
}
