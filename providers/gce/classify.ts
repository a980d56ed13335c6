// Compute routes → RouteEntry. A route is tartan's only when every mark agrees:
// our name prefix, our description marker, a destination inside the cluster
// Network, and an instance next hop. A route that is not ours is reported as
// foreign when its destination lies inside the cluster Network; routes that only
// contain it (the network's default route, a /8 aggregate) are left out, since the
// longest prefix wins and they can never take a lease's traffic.
import { contains, type Cidr, formatCidr, parseCidr } from '../../src/net/cidr.ts';
import type { NextHop, RouteEntry } from '../route-table.ts';
import type { RouteNaming } from './names.ts';
import type { GceRoute } from './wire.ts';

export interface ClassifyContext {
  readonly naming: RouteNaming;
  readonly clusterNetworks: readonly Cidr[];
  /** The provider's project: next hops in it are written `zones/<z>/instances/<n>`. */
  readonly project: string;
  /** The table id the entries carry (the network's name). */
  readonly table: string;
}

export type Classified = { readonly kind: 'owned' | 'foreign'; readonly entry: RouteEntry } | { readonly kind: 'other' };

const INSTANCE_PATH = /(?:^|\/)(?:projects\/([^/]+)\/)?zones\/([^/]+)\/instances\/([^/]+)$/;

export function classifyRoute(route: GceRoute, ctx: ClassifyContext): Classified {
  const dest = parseDest(route.destRange);
  if (!dest) return { kind: 'other' };
  const inside = ctx.clusterNetworks.some((n) => contains(n, dest));
  if (!inside) return { kind: 'other' };
  const nextHop = route.nextHopInstance ? nextHopFromUrl(route.nextHopInstance, ctx.project) : undefined;
  const owned = route.name.startsWith(ctx.naming.prefix) && route.description === ctx.naming.marker && nextHop !== undefined;
  const entry: RouteEntry = {
    table: ctx.table,
    destination: formatCidr(dest),
    nextHop,
    state: route.warnings.some((w) => w.code === 'NEXT_HOP_INSTANCE_NOT_FOUND') ? 'blackhole' : 'active',
    owned,
    id: route.name,
  };
  return { kind: owned ? 'owned' : 'foreign', entry };
}

/** `https://…/projects/p/zones/z/instances/n` → `zones/z/instances/n` (with `projects/p/` kept when p is another project). */
export function nextHopFromUrl(url: string, project: string): NextHop | undefined {
  const m = INSTANCE_PATH.exec(url);
  if (!m) return undefined;
  const local = `zones/${m[2]}/instances/${m[3]}`;
  return { kind: 'instance', id: m[1] === undefined || m[1] === project ? local : `projects/${m[1]}/${local}` };
}

/** Parses a NextHop id (`zones/z/instances/n` or `projects/p/zones/z/instances/n`). */
export function parseInstanceId(id: string): { project?: string | undefined; zone: string; name: string } | undefined {
  const m = /^(?:projects\/([^/]+)\/)?zones\/([a-z0-9-]+)\/instances\/([a-z0-9-]+)$/.exec(id);
  return m ? { project: m[1], zone: m[2]!, name: m[3]! } : undefined;
}

function parseDest(text: string): Cidr | undefined {
  try {
    return parseCidr(text, 'destRange');
  } catch {
    return undefined;
  }
}
