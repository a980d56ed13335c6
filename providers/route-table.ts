// The one interface every cloud implements, in the spirit of the Kubernetes route
// controller's ListRoutes / CreateRoute / DeleteRoute: small, documented, and
// split in two so that `tartan audit` can be handed the read half only.
// Abilities a cloud lacks (replace, batch writes, host preparation) are their own
// small interfaces, discovered with the `can*` guards, never faked.

export type ProviderName = 'aws' | 'gce' | 'alicloud' | 'fake';

/** Where a route sends packets. `id` is the provider's canonical id for the target. */
export interface NextHop {
  /** instance: an EC2 / GCE / ECS instance; eni: an AWS network interface. */
  readonly kind: 'instance' | 'eni';
  /** AWS `i-…` / `eni-…`; GCE `zones/<zone>/instances/<name>`; Alibaba `i-…`. */
  readonly id: string;
}

export interface RouteTableRef {
  /** AWS `rtb-…`; GCE the network's name (routes are per network); Alibaba `vtb-…`. */
  readonly id: string;
  readonly name?: string | undefined;
}

export interface RouteEntry {
  readonly table: string;
  /** Canonical CIDR, e.g. `10.244.3.0/24`. */
  readonly destination: string;
  /** Undefined when the target is not an instance or ENI (gateway, peering, …). */
  readonly nextHop?: NextHop | undefined;
  /**
   * Other names of the same target: EC2 shows a route to an attached interface with
   * both the instance (nextHop) and the interface (here), whichever it was made with.
   */
  readonly nextHopAliases?: readonly NextHop[] | undefined;
  /** blackhole: the target is gone (terminated instance). pending: not yet effective (Alibaba, GCE). */
  readonly state: 'active' | 'blackhole' | 'pending';
  /** True only for routes tartan created and may change: inside the cluster Network and marked. */
  readonly owned: boolean;
  /** The provider's own handle (GCE route name, Alibaba RouteEntryId); absent on AWS. */
  readonly id?: string | undefined;
}

export interface RouteListing {
  /** Routes tartan owns in this table. */
  readonly owned: readonly RouteEntry[];
  /** Routes tartan does not own whose destination overlaps the cluster Network (for conflict reports). */
  readonly foreign: readonly RouteEntry[];
}

export interface TableCapacity {
  /** How many routes the table may hold (the cloud's quota, as configured or discovered). */
  readonly quota: number;
  /** How many of those places are taken, by any route (owned, foreign, system). */
  readonly used: number;
}

/** A host as the lease store knows it. */
export interface HostRef {
  /** The lease's PublicIP: the host's address in the VPC when it is a cloud host. */
  readonly publicIp: string;
  readonly instanceId?: string | undefined;
  readonly nodeName?: string | undefined;
}

export interface DesiredRoute {
  readonly destination: string;
  readonly nextHop: NextHop;
}

/** API calls made, by operation and result (`ok`, `throttled`, `error`, …), for metrics. */
export type ApiCallCounts = Readonly<Record<string, Readonly<Record<string, number>>>>;

export interface RouteTableReader {
  readonly provider: ProviderName;
  /**
   * False when the cloud cannot mark a route as tartan's (AWS): `owned` then only
   * means "looks like tartan's", and the controller decides ownership from its
   * ledger (src/controller/ownership.ts). Absent means true.
   */
  readonly marksRoutes?: boolean | undefined;
  /** The managed route tables (explicit ids, or found by tag), each checked to exist. */
  tables(signal: AbortSignal): Promise<readonly RouteTableRef[]>;
  /** One table's routes: what tartan owns, and foreign routes overlapping the cluster Network. Paginates. */
  listRoutes(table: string, signal: AbortSignal): Promise<RouteListing>;
  capacity(table: string, signal: AbortSignal): Promise<TableCapacity>;
  /**
   * Resolves hosts to next hops, keyed by HostRef.publicIp. Hosts that are not in
   * this provider's network (on-prem, another cloud, terminated) are absent.
   */
  resolveHosts(hosts: readonly HostRef[], signal: AbortSignal): Promise<ReadonlyMap<string, NextHop>>;
  /** Every API call this provider made so far. */
  calls(): ApiCallCounts;
}

export interface RouteTableWriter extends RouteTableReader {
  /**
   * Creates a route. Idempotent: the same destination with the same next hop is
   * success. Throws ConflictError when the destination exists with another next
   * hop or belongs to someone else, QuotaExceededError when the table is full.
   */
  createRoute(table: string, route: DesiredRoute, signal: AbortSignal): Promise<void>;
  /**
   * Deletes an owned route. A route that is already gone is success. Throws
   * NotOwnedError, before any API call, for a route with `owned` false.
   */
  deleteRoute(table: string, route: RouteEntry, signal: AbortSignal): Promise<void>;
}

/** Clouds that can change a route's next hop in place (AWS ReplaceRoute). */
export interface RouteReplacer {
  replaceRoute(table: string, route: DesiredRoute, signal: AbortSignal): Promise<void>;
}

export interface BatchResult {
  readonly done: readonly string[];
  readonly failed: readonly { readonly destination: string; readonly error: Error }[];
}

/** Clouds with batch route writes (Alibaba CreateRouteEntries / DeleteRouteEntries). */
export interface BatchRouteWriter {
  readonly maxBatch: number;
  createRoutes(table: string, routes: readonly DesiredRoute[], signal: AbortSignal): Promise<BatchResult>;
  deleteRoutes(table: string, routes: readonly RouteEntry[], signal: AbortSignal): Promise<BatchResult>;
}

export interface HostPreparation {
  readonly nextHop: NextHop;
  /** changed: this call fixed it (AWS SourceDestCheck off); ok: already right; unfixable: reported only (GCE canIpForward). */
  readonly result: 'changed' | 'ok' | 'unfixable';
  readonly reason?: string | undefined;
}

/** Clouds where a host must be prepared to forward pod traffic. */
export interface HostPreparer {
  prepareHosts(nextHops: readonly NextHop[], signal: AbortSignal): Promise<readonly HostPreparation[]>;
}

/** A route table the cloud has, managed or not, with its tags. */
export interface TableCandidate {
  readonly id: string;
  readonly name?: string | undefined;
  readonly tags: Readonly<Record<string, string>>;
}

/**
 * Clouds that find managed tables by tag and can list the tables the tag did not
 * pick (bounded: one page), so a controller managing nothing can say what it saw.
 * AWS has it; GCE (one network, no table tags) and Alibaba (explicit table ids)
 * do not.
 */
export interface TableLookup {
  /** The tag `tables()` selects by; undefined when tables are given by id. */
  readonly tableTag: { readonly key: string; readonly value?: string | undefined } | undefined;
  candidateTables(signal: AbortSignal): Promise<readonly TableCandidate[]>;
}

/**
 * Clouds that know which network their managed tables route: the route domain
 * (src/lease/hybrid.ts) whose leases this controller routes and whose statuses and
 * leadership it holds. AWS, GCE and Alibaba have it; the fake does not.
 */
export interface RouteDomainSource {
  /** `aws:vpc-…`, `gce:projects/<p>/global/networks/<n>`, `ali:vpc-…`. */
  routeDomain(signal: AbortSignal): Promise<string>;
}

export function canTellRouteDomain(p: object): p is RouteDomainSource {
  return typeof (p as Partial<RouteDomainSource>).routeDomain === 'function';
}

export function canListCandidateTables(p: object): p is TableLookup {
  return typeof (p as Partial<TableLookup>).candidateTables === 'function';
}

export function canReplace(p: object): p is RouteReplacer {
  return typeof (p as Partial<RouteReplacer>).replaceRoute === 'function';
}

export function canBatch(p: object): p is BatchRouteWriter {
  return typeof (p as Partial<BatchRouteWriter>).createRoutes === 'function';
}

export function canPrepareHosts(p: object): p is HostPreparer {
  return typeof (p as Partial<HostPreparer>).prepareHosts === 'function';
}

export function sameNextHop(a: NextHop | undefined, b: NextHop | undefined): boolean {
  return a !== undefined && b !== undefined && a.kind === b.kind && a.id === b.id;
}

/** Whether the route sends traffic to `hop`, by its next hop or any other name of that target. */
export function routesTo(route: Pick<RouteEntry, 'nextHop' | 'nextHopAliases'>, hop: NextHop | undefined): boolean {
  return targetNames(route).some((name) => sameNextHop(name, hop));
}

/** Every name the route's target goes by. */
export function targetNames(route: Pick<RouteEntry, 'nextHop' | 'nextHopAliases'>): NextHop[] {
  return [...(route.nextHop ? [route.nextHop] : []), ...(route.nextHopAliases ?? [])];
}
