// Pure rules: which entries are tartan's, how an API entry reads as a
// RouteEntry, and which API codes mean "wait and try again".
import { contains, formatCidr, overlaps, parseCidr, type Cidr } from '../../src/net/cidr.ts';
import type { NextHop, RouteEntry } from '../route-table.ts';
import type { ApiRouteEntry } from './api.ts';

export interface Marker {
  readonly name: string;
  readonly description: string;
}

/** The mark on every entry tartan writes (DESIGN: Alibaba entry name + description). */
export function markerFor(clusterName: string): Marker {
  return { name: `tartan-${clusterName}`, description: `tartan:${clusterName}` };
}

export interface Classified {
  readonly entry: RouteEntry;
  /** owned: tartan's; foreign: someone else's, overlapping the cluster Network; other: neither. */
  readonly kind: 'owned' | 'foreign' | 'other';
}

/**
 * Owned = marked (name and description) AND a Custom entry AND inside a cluster
 * Network AND routed to an instance. Anything else overlapping a Network is foreign.
 */
export function classify(e: ApiRouteEntry, marker: Marker, networks: readonly Cidr[]): Classified {
  const destination = parseDestination(e.destination);
  const nextHop = nextHopOf(e);
  const entry: RouteEntry = {
    table: e.tableId,
    destination: destination ? formatCidr(destination) : e.destination,
    nextHop,
    state: stateOf(e),
    owned: false,
    id: e.id,
  };
  if (!destination) return { entry, kind: 'other' };
  const marked = e.name === marker.name && e.description === marker.description;
  const inside = networks.some((n) => contains(n, destination));
  if (marked && inside && e.type === 'Custom' && nextHop?.kind === 'instance') return { entry: { ...entry, owned: true }, kind: 'owned' };
  return { entry, kind: networks.some((n) => overlaps(n, destination)) ? 'foreign' : 'other' };
}

/** A single Instance (or NetworkInterface) next hop; ECMP and gateways have none for tartan. */
export function nextHopOf(e: ApiRouteEntry): NextHop | undefined {
  if (e.nextHops.length !== 1) return undefined;
  const h = e.nextHops[0]!;
  if (h.type === 'Instance' && h.id) return { kind: 'instance', id: h.id };
  if (h.type === 'NetworkInterface' && h.id) return { kind: 'eni', id: h.id };
  return undefined;
}

/** Pending, Modifying and Deleting are all "not settled"; a disabled next hop is a blackhole. */
export function stateOf(e: ApiRouteEntry): RouteEntry['state'] {
  if (e.nextHops.some((h) => h.enabled === 0)) return 'blackhole';
  return e.status === 'Available' ? 'active' : 'pending';
}

/** Codes that mean another change is in flight in the VPC: wait, then try again. */
export const BUSY_CODES: ReadonlySet<string> = new Set([
  'IncorrectRouteEntryStatus',
  'IncorrcetRouteEntryStatus', // sic: the DeleteRouteEntry reference lists this spelling too
  'TaskConflict',
  'OperationConflict',
  'IncorrectVpcStatus',
  'IncorrectStatus.VpcRouteEntry',
  'SystemBusy',
  'LastTokenProcessing',
  'OperationFailed.DistibuteLock',
  'VPC_ROUTE_ENTRY_STATUS_ERROR',
]);

export const NOT_FOUND_ENTRY_CODES: ReadonlySet<string> = new Set([
  'InvalidRouteEntry.NotFound', 'InvalidRouteEntryId.NotFound', 'InvalidRouteEntry', 'VPC_ROUTER_ENTRY_NOT_EXIST',
]);

export const DUPLICATE_CODES: ReadonlySet<string> = new Set([
  'InvalidCIDRBlock.Duplicate', 'InvalidRouteEntry.Duplicate', 'RouterEntryConflict.Duplicated', 'VPC_ROUTE_ENTRY_CIDR_BLOCK_DUPLICATE',
]);

export const NEXT_HOP_NOT_FOUND_CODES: ReadonlySet<string> = new Set([
  'InvalidNextHopId.NotFound', 'InvalidNextHop.NotFound', 'InvalidInstanceId.NotFound', 'InvalidInstanId.NotFound',
]);

export function isQuotaCode(code: string): boolean {
  return code.startsWith('QuotaExceeded') || code.includes('QUOTA');
}

function parseDestination(text: string): Cidr | undefined {
  try {
    return parseCidr(text.includes('/') ? text : `${text}/${text.includes(':') ? 128 : 32}`, 'DestinationCidrBlock');
  } catch {
    return undefined; // a prefix list id or something else that is not a CIDR
  }
}
