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
 * A route's target by the names EC2 shows. A route to an attached interface shows
 * both the interface and its instance, whichever of the two it was created with
 * (tartan routes a host by instance when it has one interface, by interface when
 * it has several, as EC2 refuses InstanceId then). The instance comes first and
 * the interface is an alias, so comparing with the wanted next hop needs no
 * interface count, and listing a table costs no DescribeInstances.
 */
export function nextHopsOf(r: Ec2Route): { nextHop: NextHop | undefined; nextHopAliases?: NextHop[] } {
  if (r.instanceId !== undefined) {
    const nextHop: NextHop = { kind: 'instance', id: r.instanceId };
    return r.networkInterfaceId === undefined ? { nextHop } : { nextHop, nextHopAliases: [{ kind: 'eni', id: r.networkInterfaceId }] };
  }
  return { nextHop: r.networkInterfaceId !== undefined ? { kind: 'eni', id: r.networkInterfaceId } : undefined };
}

/** Whether the route already sends traffic where `hop` says (the same instance or interface). */
export function targets(r: Ec2Route, hop: NextHop): boolean {
  return hop.kind === 'instance' ? r.instanceId === hop.id : r.networkInterfaceId === hop.id;
}

export function classify(table: Ec2RouteTable, networks: readonly Cidr[]): RouteListing {
  const owned: RouteEntry[] = [];
  const foreign: RouteEntry[] = [];
  for (const r of table.routes) {
    const cidr = routeCidr(r);
    if (cidr === undefined || !overlapsNetworks(r, networks)) continue;
    const mine = isOwned(r, networks);
    const entry: RouteEntry = {
      table: table.id, destination: formatCidr(cidr), ...nextHopsOf(r),
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
