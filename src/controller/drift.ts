// "What should exist" in the cloud, in one place: the controller plans from it and
// `tartan audit` reports it. Pure: leases + resolved next hops + the observed
// tables in, one drift item per (table, destination) out.
import { routedIn } from '../lease/hybrid.ts';
import type { Lease } from '../lease/lease.ts';
import { type Cidr, contains, formatCidr, overlaps, parseCidr, size } from '../net/cidr.ts';
import { type NextHop, type RouteEntry, type RouteListing, type TableCapacity, routesTo } from '../../providers/route-table.ts';

export type DriftKind =
  | 'ok'              // the route exists, owned, active, right next hop
  | 'missing'         // a lease in the route domain has no route and there is room
  | 'overflow'        // … and the table is full: it stays on the agents' fallback path
  | 'wrong-next-hop'  // owned route points at another instance/ENI (host moved)
  | 'blackhole'       // owned route whose target is gone (terminated instance)
  | 'stale'           // owned route for no lease (host left, lease expired)
  | 'conflict';       // a foreign route covers a lease's subnet: reported, never touched

export interface DriftItem {
  readonly table: string;
  readonly destination: string;
  readonly kind: DriftKind;
  readonly leaseKey?: string | undefined;
  /** The next hop the lease's host resolves to. */
  readonly want?: NextHop | undefined;
  /** The route as observed (owned or foreign). */
  readonly have?: RouteEntry | undefined;
  /**
   * Routes tartan does not own that take traffic of this lease's subnet from its
   * route: more specific ones inside it, the same destination, or (while its own is
   * missing) a wider one. The lease's status is `conflict` while any is there.
   */
  readonly shadowedBy?: readonly Shadow[] | undefined;
}

export interface Shadow {
  readonly route: RouteEntry;
  /** The share of the lease's addresses the route takes, 0 < share ≤ 1. */
  readonly share: number;
}

export interface TableObservation {
  readonly table: string;
  readonly listing: RouteListing;
  readonly capacity: TableCapacity;
}

export interface TableDrift {
  readonly table: string;
  readonly capacity: TableCapacity;
  readonly items: readonly DriftItem[];
}

export interface DriftInput {
  readonly leases: readonly Lease[];
  /** Next hops by lease PublicIP; a lease whose host is absent is outside this route domain. */
  readonly nextHops: ReadonlyMap<string, NextHop>;
  readonly tables: readonly TableObservation[];
  /**
   * The cluster's Network(s): a foreign route inside one that takes nothing from a
   * lease is still reported, as a conflict without a lease (made by hand, or by
   * another controller). Without them, only routes that touch a lease are reported.
   */
  readonly networks?: readonly Cidr[] | undefined;
  /**
   * The controller's own route domain: only leases that published exactly it are
   * routed (another cloud's hosts are its controller's). Without it, every lease
   * that published a route domain other than none.
   */
  readonly routeDomain?: string | undefined;
}

export interface Drift {
  readonly tables: readonly TableDrift[];
  /**
   * Leases that get no cloud route: no route domain published (flannel hosts, agents
   * not in hybrid mode, `none`), another route domain, or a host outside this provider's network.
   */
  readonly outOfDomain: readonly string[];
}

export function computeDrift(input: DriftInput): Drift {
  const inDomain = routedIn(input.routeDomain);
  const routed = (l: Lease): boolean => inDomain(l) && input.nextHops.has(l.attrs.publicIp);
  const leases = input.leases.filter(routed);
  const outOfDomain = input.leases.filter((l) => !routed(l)).map((l) => l.key).sort();
  return { tables: input.tables.map((t) => tableDrift(t, leases, input.nextHops, input.networks ?? [])), outOfDomain };
}

function tableDrift(obs: TableObservation, leases: readonly Lease[], nextHops: ReadonlyMap<string, NextHop>, networks: readonly Cidr[]): TableDrift {
  const owned = new Map(obs.listing.owned.map((r) => [r.destination, r]));
  const foreign = obs.listing.foreign.map((route) => ({ route, cidr: parseCidr(route.destination, 'foreign route', { allowHostBits: true }) }));
  const items: DriftItem[] = [];
  let free = Math.max(0, obs.capacity.quota - obs.capacity.used);
  const wanted = new Set<string>();
  for (const lease of byPlace(leases, owned)) {
    const destination = formatCidr(lease.subnet);
    const want = nextHops.get(lease.attrs.publicIp);
    const have = owned.get(destination);
    // A wider foreign route only takes the subnet while tartan's own cannot be there (a full table).
    const { exact, shadows } = shadowsOf(lease.subnet, foreign, have !== undefined || free > 0);
    const base = { table: obs.table, destination, leaseKey: lease.key, want, ...(shadows.length > 0 ? { shadowedBy: shadows } : {}) };
    wanted.add(destination);
    // The same destination held by a foreign route: tartan cannot have its own there.
    if (exact && !have) items.push({ ...base, kind: 'conflict', have: exact });
    else if (!have) {
      items.push({ ...base, kind: free > 0 ? 'missing' : 'overflow' });
      if (free > 0) free--;
    } else if (have.state === 'blackhole') items.push({ ...base, kind: 'blackhole', have });
    else if (!routesTo(have, want)) items.push({ ...base, kind: 'wrong-next-hop', have });
    else items.push({ ...base, kind: 'ok', have });
  }
  for (const route of obs.listing.owned) {
    if (!wanted.has(route.destination)) items.push({ table: obs.table, destination: route.destination, kind: 'stale', have: route });
  }
  const reported = new Set(items.flatMap((i) => [...(i.kind === 'conflict' && i.have ? [i.have] : []), ...(i.shadowedBy ?? []).map((s) => s.route)]));
  for (const f of foreign) {
    if (!reported.has(f.route) && networks.some((n) => contains(n, f.cidr))) items.push({ table: obs.table, destination: f.route.destination, kind: 'conflict', have: f.route });
  }
  return { table: obs.table, capacity: obs.capacity, items };
}

/**
 * Foreign routes that take traffic of `subnet` from tartan's route for it, whatever
 * order they appeared in: more specific ones inside it (each its share), one with
 * the same destination (all of it), and, while tartan's own cannot be created (the
 * table is full), a wider one (all of it: the VPC sends the subnet there). A wider
 * route beside tartan's own loses by longest prefix and takes nothing.
 */
function shadowsOf(subnet: Cidr, foreign: readonly { route: RouteEntry; cidr: Cidr }[], ownThere: boolean): { exact?: RouteEntry; shadows: Shadow[] } {
  let exact: RouteEntry | undefined;
  const shadows: Shadow[] = [];
  for (const f of foreign) {
    if (!overlaps(f.cidr, subnet)) continue;
    if (f.cidr.prefix === subnet.prefix) {
      exact ??= f.route;
      shadows.push({ route: f.route, share: 1 });
    } else if (f.cidr.prefix > subnet.prefix) {
      shadows.push({ route: f.route, share: Number(size(f.cidr)) / Number(size(subnet)) });
    } else if (!ownThere) {
      shadows.push({ route: f.route, share: 1 });
    }
  }
  return { exact, shadows };
}

/**
 * Who gets the table's free places: leases that already hold a route keep theirs;
 * the rest by age (etcd create revision, then key), so the newest overflow and
 * the choice is the same on every pass and on every leader.
 */
function byPlace(leases: readonly Lease[], owned: ReadonlyMap<string, RouteEntry>): Lease[] {
  const rank = (l: Lease): number => (owned.has(formatCidr(l.subnet)) ? 0 : 1);
  return [...leases].sort((a, b) =>
    rank(a) - rank(b) ||
    (a.createdRevision ?? Number.MAX_SAFE_INTEGER) - (b.createdRevision ?? Number.MAX_SAFE_INTEGER) ||
    (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

export function countByKind(drift: Drift): Record<DriftKind, number> {
  const out: Record<DriftKind, number> = { ok: 0, missing: 0, overflow: 0, 'wrong-next-hop': 0, blackhole: 0, stale: 0, conflict: 0 };
  for (const t of drift.tables) for (const i of t.items) out[i.kind]++;
  return out;
}
