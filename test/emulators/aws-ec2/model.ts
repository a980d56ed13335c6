// The emulated account: VPCs, instances with their network interfaces, route
// tables with routes. Mutations follow EC2's rules and fail with EC2's codes.
import { formatCidr, normalize, parseCidr, type Family } from '../../../src/net/cidr.ts';
import { fault } from './faults.ts';
import { type Params, boolValue, required } from './query.ts';

export type InstanceState = 'pending' | 'running' | 'stopping' | 'stopped' | 'shutting-down' | 'terminated';
export type RouteOrigin = 'CreateRouteTable' | 'CreateRoute' | 'EnableVgwRoutePropagation';

export interface RouteTarget {
  readonly gatewayId?: string | undefined;
  readonly instanceId?: string | undefined;
  readonly networkInterfaceId?: string | undefined;
  readonly vpcPeeringConnectionId?: string | undefined;
  readonly natGatewayId?: string | undefined;
}

export interface Vpc { readonly id: string; readonly cidr: string; readonly ipv6Cidr?: string | undefined; readonly ownerId: string }
export interface Eni {
  readonly id: string;
  readonly privateIps: readonly string[];
  sourceDestCheck: boolean;
  readonly deviceIndex: number;
}
export interface Instance {
  readonly id: string;
  readonly vpcId: string;
  readonly ownerId: string;
  state: InstanceState;
  enis: Eni[];
  readonly tags: ReadonlyMap<string, string>;
}
export interface Route { readonly destination: string; readonly family: Family; target: RouteTarget; origin: RouteOrigin }
export interface Association { readonly id: string; readonly subnetId?: string | undefined; readonly main: boolean }
export interface RouteTable {
  readonly id: string;
  readonly vpcId: string;
  readonly ownerId: string;
  readonly routes: Route[];
  readonly associations: readonly Association[];
  readonly tags: ReadonlyMap<string, string>;
  quota: number;
}

export interface SeedVpc { id?: string; cidr: string; ipv6Cidr?: string; ownerId?: string }
export interface SeedEni { id?: string; privateIps: string[]; sourceDestCheck?: boolean }
export interface SeedInstance {
  id?: string;
  vpcId: string;
  /** Shorthand for one network interface with this address. */
  privateIp?: string;
  enis?: SeedEni[];
  state?: InstanceState;
  sourceDestCheck?: boolean;
  tags?: Record<string, string>;
}
export interface SeedRoute { destination: string; target: RouteTarget; origin?: RouteOrigin }
export interface SeedRouteTable {
  id?: string;
  vpcId: string;
  ownerId?: string;
  tags?: Record<string, string>;
  quota?: number;
  associations?: { id?: string; subnetId?: string; main?: boolean }[];
  /** Routes in this order; when absent the table starts with the VPC's local routes. */
  routes?: SeedRoute[];
}

export interface ModelOptions {
  /** Routes per table and address family (AWS default 50, adjustable to 1,000). */
  readonly routeQuota: number;
  /** Whether the local route takes a place of the quota (AWS does not say; off by default). */
  readonly quotaCountsLocal: boolean;
}

export const DEFAULT_OWNER = '111122223333';

export class Ec2Model {
  readonly vpcs = new Map<string, Vpc>();
  readonly instances = new Map<string, Instance>();
  readonly tables = new Map<string, RouteTable>();
  readonly #enis = new Map<string, { eni: Eni; instance: Instance }>();
  readonly opts: ModelOptions;
  #seq = 0;

  constructor(opts: ModelOptions) {
    this.opts = opts;
  }

  // --- seeding (admin API) -------------------------------------------------
  seedVpc(s: SeedVpc): Vpc {
    const vpc = { id: s.id ?? this.#newId('vpc'), cidr: canonical(s.cidr, 'cidr'), ipv6Cidr: s.ipv6Cidr === undefined ? undefined : canonical(s.ipv6Cidr, 'ipv6Cidr'), ownerId: s.ownerId ?? DEFAULT_OWNER };
    this.vpcs.set(vpc.id, vpc);
    return vpc;
  }

  seedInstance(s: SeedInstance): Instance {
    this.#vpc(s.vpcId);
    const seeds = s.enis ?? (s.privateIp ? [{ privateIps: [s.privateIp] }] : []);
    if (seeds.length === 0) throw fault.missing('privateIp or enis');
    const enis = seeds.map((e, i) => ({
      id: e.id ?? this.#newId('eni'),
      privateIps: [...e.privateIps],
      sourceDestCheck: e.sourceDestCheck ?? (i === 0 ? (s.sourceDestCheck ?? true) : true),
      deviceIndex: i,
    }));
    const instance: Instance = {
      id: s.id ?? this.#newId('i'), vpcId: s.vpcId, ownerId: this.#vpc(s.vpcId).ownerId,
      state: s.state ?? 'running', enis, tags: new Map(Object.entries(s.tags ?? {})),
    };
    this.instances.set(instance.id, instance);
    for (const eni of enis) this.#enis.set(eni.id, { eni, instance });
    return instance;
  }

  seedRouteTable(s: SeedRouteTable): RouteTable {
    const vpc = this.#vpc(s.vpcId);
    const id = s.id ?? this.#newId('rtb');
    const local: SeedRoute[] = [vpc.cidr, vpc.ipv6Cidr].filter((c): c is string => c !== undefined)
      .map((destination) => ({ destination, target: { gatewayId: 'local' }, origin: 'CreateRouteTable' }));
    const table: RouteTable = {
      id, vpcId: vpc.id, ownerId: s.ownerId ?? vpc.ownerId, routes: [], tags: new Map(Object.entries(s.tags ?? {})),
      associations: (s.associations ?? []).map((a) => ({ id: a.id ?? this.#newId('rtbassoc'), subnetId: a.subnetId, main: a.main ?? false })),
      quota: s.quota ?? this.opts.routeQuota,
    };
    this.tables.set(id, table);
    for (const r of s.routes ?? local) this.seedRoute(id, r);
    return table;
  }

  /** Adds or overwrites tags on a table (EC2 CreateTags). */
  tagTable(tableId: string, tags: Record<string, string>): void {
    const table = this.table(tableId);
    this.tables.set(tableId, { ...table, tags: new Map([...table.tags, ...Object.entries(tags)]) });
  }

  /** A route made outside tartan: by hand (origin CreateRoute), to a gateway, propagated, … */
  seedRoute(tableId: string, r: SeedRoute): void {
    const table = this.table(tableId);
    const cidr = parseCidr(r.destination, 'destination', { allowHostBits: true });
    const destination = formatCidr(normalize(cidr));
    const i = table.routes.findIndex((x) => x.destination === destination);
    const route: Route = { destination, family: cidr.family, target: { ...r.target }, origin: r.origin ?? 'CreateRoute' };
    if (i >= 0) table.routes[i] = route;
    else table.routes.push(route);
  }

  terminate(instanceId: string): void {
    const instance = this.instance(instanceId);
    instance.state = 'terminated';
    for (const eni of instance.enis) this.#enis.delete(eni.id);
    instance.enis = [];
  }

  // --- lookups -------------------------------------------------------------
  table(id: string): RouteTable {
    const t = this.tables.get(id);
    if (!t) throw fault.tableNotFound(id);
    return t;
  }

  instance(id: string): Instance {
    const i = this.instances.get(id);
    if (!i) throw fault.instanceNotFound(id);
    return i;
  }

  /** blackhole when the target instance is gone or terminated, or its interface deleted. */
  routeState(route: Route): 'active' | 'blackhole' {
    const { instanceId, networkInterfaceId } = route.target;
    if (instanceId !== undefined && this.instances.get(instanceId)?.state === 'terminated') return 'blackhole';
    if (networkInterfaceId !== undefined && !this.#enis.has(networkInterfaceId)) return 'blackhole';
    return 'active';
  }

  // --- actions ---------------------------------------------------------------
  createRoute(params: Params): void {
    const table = this.table(required(params, 'RouteTableId'));
    const dest = destinationOf(params);
    const target = this.#targetOf(params, table);
    if (table.routes.some((r) => r.destination === dest.text)) throw fault.routeExists(dest.text);
    if (this.#counted(table, dest.family) >= table.quota) throw fault.routeLimit();
    table.routes.push({ destination: dest.text, family: dest.family, target, origin: 'CreateRoute' });
  }

  replaceRoute(params: Params): void {
    const table = this.table(required(params, 'RouteTableId'));
    const route = this.#existingRoute(table, destinationOf(params).text);
    route.target = this.#targetOf(params, table);
    route.origin = 'CreateRoute';
  }

  deleteRoute(params: Params): void {
    const table = this.table(required(params, 'RouteTableId'));
    const route = this.#existingRoute(table, destinationOf(params).text);
    table.routes.splice(table.routes.indexOf(route), 1);
  }

  modifyInstanceAttribute(params: Params): void {
    const instance = this.instance(required(params, 'InstanceId'));
    const value = boolValue(params, 'SourceDestCheck.Value');
    if (value === undefined) throw fault.combination('No attributes specified.');
    if (instance.state === 'terminated') throw fault.incorrectState(instance.id, instance.state);
    // The instance attribute is the primary interface's flag.
    instance.enis[0]!.sourceDestCheck = value;
  }

  modifyNetworkInterfaceAttribute(params: Params): void {
    const id = required(params, 'NetworkInterfaceId');
    if (!/^eni-[0-9a-f]{8,17}$/.test(id)) throw fault.eniMalformed(id);
    const found = this.#enis.get(id);
    if (!found) throw fault.eniNotFound(id);
    const value = boolValue(params, 'SourceDestCheck.Value');
    if (value === undefined) throw fault.combination('No attributes specified.');
    found.eni.sourceDestCheck = value;
  }

  #existingRoute(table: RouteTable, destination: string): Route {
    const route = table.routes.find((r) => r.destination === destination);
    if (!route) throw fault.routeNotFound(destination, table.id);
    if (route.origin === 'CreateRouteTable') throw fault.localRoute(destination, table.id);
    return route;
  }

  #counted(table: RouteTable, family: Family): number {
    return table.routes.filter((r) => r.family === family && (r.origin === 'CreateRoute' || (this.opts.quotaCountsLocal && r.origin === 'CreateRouteTable'))).length;
  }

  #targetOf(params: Params, table: RouteTable): RouteTarget {
    const given = TARGET_PARAMS.filter((p) => params.has(p));
    if (given.length !== 1) throw fault.combination(`The request must contain exactly one of ${TARGET_PARAMS.join(', ')}`);
    const name = given[0]!;
    const id = params.get(name)!;
    if (name === 'InstanceId') {
      const instance = this.instance(id);
      if (instance.state === 'terminated' || instance.state === 'shutting-down') throw fault.incorrectState(id, instance.state);
      if (instance.vpcId !== table.vpcId) throw fault.differentNetworks(table.id, id);
      if (instance.enis.length > 1) throw fault.multipleEnis(id);
      return { instanceId: id, networkInterfaceId: instance.enis[0]?.id };
    }
    if (name === 'NetworkInterfaceId') {
      const found = this.#enis.get(id);
      if (!found) throw fault.eniNotFound(id);
      if (found.instance.vpcId !== table.vpcId) throw fault.differentNetworks(table.id, id);
      return { networkInterfaceId: id, instanceId: found.instance.id };
    }
    return { [name.charAt(0).toLowerCase() + name.slice(1)]: id };
  }

  #vpc(id: string): Vpc {
    const vpc = this.vpcs.get(id);
    if (!vpc) throw new Error(`vpc ${id} is not seeded`);
    return vpc;
  }

  #newId(prefix: string): string {
    return `${prefix}-${(++this.#seq).toString(16).padStart(17, '0')}`;
  }
}

const TARGET_PARAMS = ['InstanceId', 'NetworkInterfaceId', 'GatewayId', 'VpcPeeringConnectionId', 'NatGatewayId'] as const;

/** EC2 puts a destination in canonical form (host bits cleared) before using it. */
function destinationOf(params: Params): { text: string; family: Family } {
  const v4 = params.get('DestinationCidrBlock');
  const v6 = params.get('DestinationIpv6CidrBlock');
  if ((v4 === undefined) === (v6 === undefined)) {
    throw fault.combination('The request must contain exactly one of destinationCidrBlock, destinationIpv6CidrBlock');
  }
  const param = v4 !== undefined ? 'destinationCidrBlock' : 'destinationIpv6CidrBlock';
  const text = (v4 ?? v6)!;
  let family: Family;
  let canonicalText: string;
  try {
    const cidr = parseCidr(text, param, { allowHostBits: true });
    family = cidr.family;
    canonicalText = formatCidr(normalize(cidr));
  } catch {
    throw fault.invalidValue(param, text, 'This is not a valid CIDR block.');
  }
  if ((family === 4) !== (v4 !== undefined)) throw fault.invalidValue(param, text, `This is not an IPv${v4 !== undefined ? 4 : 6} CIDR block.`);
  return { text: canonicalText, family };
}

function canonical(text: string, field: string): string {
  return formatCidr(normalize(parseCidr(text, field, { allowHostBits: true })));
}
