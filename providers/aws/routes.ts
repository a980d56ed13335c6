// Pure rules for reading an EC2 route table: what tartan owns, what is foreign,
// which next hop a route has, and how full the table is.
//
// EC2 routes carry no name or description, so ownership is what the design fixes:
// Origin CreateRoute, destination inside the cluster Network, and the target an
// instance or network interface. Anything else overlapping the Network (the local
// route, a peering or gateway route, a propagated route) is foreign.
import { type Cidr, contains, formatCidr, normalize, overlaps, parseCidr } from '../../src/net/cidr.ts';
import type { NextHop, RouteEntry, RouteListing } from '../route-table.ts';
import type { Ec2Route, Ec2RouteTable } from './api.ts';

/** The route's destination, canonical; undefined for prefix-list routes or unreadable ones. */
export function routeCidr(r: Ec2Route): Cidr | undefined {
  if (r.destination === undefined) return undefined;
  try {
    return normalize(parseCidr(r.destination, 'destination', { allowHostBits: true }));
  } catch {
    return undefined;
  }
}

export function isOwned(r: Ec2Route, networks: readonly Cidr[]): boolean {
  const cidr = routeCidr(r);
  return (
    r.origin === 'CreateRoute' && cidr !== undefined && networks.some((n) => contains(n, cidr)) &&
    (r.instanceId !== undefined || r.networkInterfaceId !== undefined) &&
    r.gatewayId === undefined && r.otherTarget === undefined
  );
}

/**
 * EC2 shows a route to an attached interface with both the interface and its instance,
 * whichever of the two it was created with. tartan routes a host by instance when it
 * has one interface and by interface when it has several (EC2 refuses InstanceId
 * then), so the canonical next hop depends on the instance's interface count.
 */
export function nextHopOf(r: Ec2Route, eniCount: (instanceId: string) => number | undefined): NextHop | undefined {
  if (r.networkInterfaceId !== undefined && (r.instanceId === undefined || (eniCount(r.instanceId) ?? 1) > 1)) {
    return { kind: 'eni', id: r.networkInterfaceId };
  }
  return r.instanceId !== undefined ? { kind: 'instance', id: r.instanceId } : undefined;
}

/** Whether the route already sends traffic where `hop` says (the same instance or interface). */
export function targets(r: Ec2Route, hop: NextHop): boolean {
  return hop.kind === 'instance' ? r.instanceId === hop.id : r.networkInterfaceId === hop.id;
}

/** Instances whose interface count decides how a route inside the Network is reported. */
export function instancesToCount(table: Ec2RouteTable, networks: readonly Cidr[]): string[] {
  const ids = table.routes
    .filter((r) => r.instanceId !== undefined && r.networkInterfaceId !== undefined && overlapsNetworks(r, networks))
    .map((r) => r.instanceId!);
  return [...new Set(ids)];
}

export function classify(table: Ec2RouteTable, networks: readonly Cidr[], eniCount: (instanceId: string) => number | undefined): RouteListing {
  const owned: RouteEntry[] = [];
  const foreign: RouteEntry[] = [];
  for (const r of table.routes) {
    const cidr = routeCidr(r);
    if (cidr === undefined || !overlapsNetworks(r, networks)) continue;
    const mine = isOwned(r, networks);
    const entry: RouteEntry = {
      table: table.id, destination: formatCidr(cidr), nextHop: nextHopOf(r, eniCount),
      state: r.state === 'blackhole' ? 'blackhole' : 'active', owned: mine,
    };
    (mine ? owned : foreign).push(entry);
  }
  return { owned, foreign };
}

/** Routes that take a place of the quota, per family: the ones made with CreateRoute (not local, not propagated). */
export function quotaUse(table: Ec2RouteTable): { v4: number; v6: number } {
  let v4 = 0;
  let v6 = 0;
  for (const r of table.routes) {
    if (r.origin !== 'CreateRoute') continue;
    const cidr = routeCidr(r);
    if (cidr?.family === 4) v4++;
    else if (cidr?.family === 6) v6++;
  }
  return { v4, v6 };
}

export function findRoute(table: Ec2RouteTable, destination: string): Ec2Route | undefined {
  return table.routes.find((r) => {
    const cidr = routeCidr(r);
    return cidr !== undefined && formatCidr(cidr) === destination;
  });
}

function overlapsNetworks(r: Ec2Route, networks: readonly Cidr[]): boolean {
  const cidr = routeCidr(r);
  return cidr !== undefined && networks.some((n) => overlaps(n, cidr));
}
