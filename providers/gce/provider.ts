// Google Compute Engine routes. The "route table" is the VPC network: GCE routes
// are global resources of the project, each bound to one network, named by us
// (names.ts) and created / deleted through operations that we wait for. GCE has
// no in-place replace, so this provider is not a RouteReplacer; a changed next
// hop is a delete and a create, which the controller plans.
import { randomUUID } from 'node:crypto';
import { ConflictError, InvalidInputError, NotFoundError, NotOwnedError, RetryableError } from '../../src/errors.ts';
import { formatRouteDomain } from '../../src/lease/hybrid.ts';
import { contains, formatCidr, parseCidr } from '../../src/net/cidr.ts';
import { backoffDelay } from '../../src/util/time.ts';
import {
  type ApiCallCounts, type DesiredRoute, type HostPreparation, type HostPreparer, type HostRef, type NextHop, type RouteEntry,
  type RouteDomainSource, type RouteListing, type RouteTableRef, type RouteTableWriter, type TableCapacity, sameNextHop,
} from '../route-table.ts';
import type { GceApi } from './api.ts';
import { type Caller, createCaller } from './caller.ts';
import { type ClassifyContext, classifyRoute, parseInstanceId } from './classify.ts';
import { type RouteNaming, routeNaming } from './names.ts';
import { awaitOperation, throwIfFailed } from './operations.ts';
import { DEFAULT_ROUTE_QUOTA, type ResolvedGceOptions } from './options.ts';
import { type GceInstance, type GceRoute, isAlreadyExists, isNotFound } from './wire.ts';

/** How often createRoute looks again when a 409 names a route that is not readable yet (someone's insert in flight). */
const IN_FLIGHT_ATTEMPTS = 5;

export class GceProvider implements RouteTableWriter, HostPreparer, RouteDomainSource {
  readonly provider = 'gce' as const;
  readonly naming: RouteNaming;
  readonly #o: ResolvedGceOptions;
  readonly #api: GceApi;
  readonly #caller: Caller;
  readonly #ctx: ClassifyContext;
  /** `projects/<p>/global/networks/<n>`: how routes name the network on insert, and the tail of every network URL. */
  readonly #networkPath: string;

  constructor(o: ResolvedGceOptions, api: GceApi) {
    this.#o = o;
    this.#api = api;
    this.#caller = createCaller({
      buckets: { read: o.readBucket, write: o.writeBucket }, windowMs: o.windowMs, retry: o.retry, clock: o.clock, logger: o.logger,
    });
    this.naming = routeNaming(o.clusterName);
    this.#ctx = { naming: this.naming, clusterNetworks: o.clusterNetworks, project: o.project, table: o.network };
    this.#networkPath = `projects/${o.project}/global/networks/${o.network}`;
  }

  /** The project's network: the one "route table" and the route domain. */
  async routeDomain(): Promise<string> {
    return formatRouteDomain({ cloud: 'gce', project: this.#o.project, network: this.#o.network });
  }

  async tables(signal: AbortSignal): Promise<readonly RouteTableRef[]> {
    try {
      await this.#caller.call('networks.get', signal, () => this.#api.getNetwork(this.#o.network, signal));
    } catch (err) {
      if (isNotFound(err)) throw new NotFoundError(`network ${this.#o.network} does not exist in project ${this.#o.project}`, { cause: err });
      throw err;
    }
    return [{ id: this.#o.network, name: this.#o.network }];
  }

  async listRoutes(table: string, signal: AbortSignal): Promise<RouteListing> {
    this.#checkTable(table);
    const owned: RouteEntry[] = [];
    const foreign: RouteEntry[] = [];
    for (const route of await this.#networkRoutes(signal)) {
      const c = classifyRoute(route, this.#ctx);
      if (c.kind === 'owned') owned.push(c.entry);
      else if (c.kind === 'foreign') foreign.push(c.entry);
    }
    return { owned, foreign };
  }

  /**
   * The quota is the configured one, else the project's ROUTES quota, else 250.
   * The project's quota may count the routes of every network in the project, so
   * with it `used` is the larger of that usage and this network's routes: an
   * underestimate of the room left, never an overestimate.
   */
  async capacity(table: string, signal: AbortSignal): Promise<TableCapacity> {
    this.#checkTable(table);
    const inNetwork = (await this.#networkRoutes(signal)).length;
    if (this.#o.routeQuota !== undefined) return { quota: this.#o.routeQuota, used: inNetwork };
    const project = await this.#caller.call('projects.get', signal, () => this.#api.getRouteQuota(signal));
    if (!project) return { quota: DEFAULT_ROUTE_QUOTA, used: inNetwork };
    return { quota: project.limit, used: Math.max(inNetwork, project.usage) };
  }

  async resolveHosts(hosts: readonly HostRef[], signal: AbortSignal): Promise<ReadonlyMap<string, NextHop>> {
    // A stopped (TERMINATED) instance forwards nothing: leave it unresolved, like a host outside GCE.
    const byIp = new Map<string, NextHop>();
    for (const inst of await this.#instances('status ne "TERMINATED"', signal)) {
      const nic = inst.nics.find((n) => this.#isOurNetwork(n.network));
      if (nic) byIp.set(nic.networkIP, { kind: 'instance', id: `zones/${inst.zone}/instances/${inst.name}` });
    }
    const out = new Map<string, NextHop>();
    for (const h of hosts) {
      const hop = byIp.get(h.publicIp);
      if (hop) out.set(h.publicIp, hop);
    }
    return out;
  }

  /** Report only: canIpForward is fixed when an instance is created and cannot be turned on for a running one. */
  async prepareHosts(nextHops: readonly NextHop[], signal: AbortSignal): Promise<readonly HostPreparation[]> {
    const byId = new Map<string, GceInstance>();
    for (const inst of await this.#instances(undefined, signal)) byId.set(`zones/${inst.zone}/instances/${inst.name}`, inst);
    return nextHops.map((nextHop): HostPreparation => {
      const inst = nextHop.kind === 'instance' ? byId.get(nextHop.id) : undefined;
      if (!inst) return { nextHop, result: 'unfixable', reason: `no instance ${nextHop.id} in project ${this.#o.project}` };
      if (inst.canIpForward) return { nextHop, result: 'ok' };
      return {
        nextHop, result: 'unfixable',
        reason: `instance ${nextHop.id} has canIpForward=false; GCE sets it only at creation: recreate the instance (or its template) with IP forwarding enabled`,
      };
    });
  }

  calls(): ApiCallCounts {
    return this.#caller.counts();
  }

  async createRoute(table: string, route: DesiredRoute, signal: AbortSignal): Promise<void> {
    this.#checkTable(table);
    const destination = this.#clusterDestination(route.destination);
    if (route.nextHop.kind !== 'instance' || !parseInstanceId(route.nextHop.id)) {
      throw new InvalidInputError('nextHop', route.nextHop, 'GCE routes need an instance next hop `zones/<zone>/instances/<name>`');
    }
    const name = this.naming.nameFor(destination);
    const body = {
      name, description: this.naming.marker, network: this.#networkPath, destRange: destination, priority: 1000,
      nextHopInstance: route.nextHop.id,
    };
    // One requestId for every retry of this create: a retried insert whose first
    // attempt did land returns the same operation instead of a 409.
    const requestId = randomUUID();
    for (let attempt = 0; ; attempt++) {
      try {
        const op = await this.#caller.call('routes.insert', signal, () => this.#api.insertRoute(body, requestId, signal));
        throwIfFailed(await awaitOperation(op, `create route ${name} (${destination})`, this.#await(signal)), `create route ${name} (${destination})`);
        return;
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
      }
      const existing = await this.#getRoute(name, signal);
      if (existing) return this.#acceptExisting(existing, destination, route.nextHop);
      if (attempt + 1 >= IN_FLIGHT_ATTEMPTS) throw new RetryableError(`route ${name} is being created by someone else; not readable yet`);
      await this.#o.clock.sleep(backoffDelay(attempt, this.#o.operationPollIntervalMs, 5_000), signal);
    }
  }

  async deleteRoute(table: string, route: RouteEntry, signal: AbortSignal): Promise<void> {
    this.#checkTable(table);
    const name = route.id ?? this.naming.nameFor(route.destination);
    if (!route.owned || !name.startsWith(this.naming.prefix)) {
      throw new NotOwnedError(`route ${name} (${route.destination}) in network ${table} is not tartan's (cluster ${this.naming.clusterName})`);
    }
    const existing = await this.#getRoute(name, signal);
    if (!existing) return;
    const c = classifyRoute(existing, this.#ctx);
    if (c.kind !== 'owned') {
      throw new NotOwnedError(`route ${name} (${existing.destRange}) in network ${table} is not tartan's: it lacks the marker ${this.naming.marker}, an instance next hop, or a destination in the cluster Network`);
    }
    const what = `delete route ${name} (${c.entry.destination})`;
    const requestId = randomUUID();
    let op;
    try {
      op = await this.#caller.call('routes.delete', signal, () => this.#api.deleteRoute(name, requestId, signal));
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    const done = await awaitOperation(op, what, this.#await(signal));
    if (done.errors.some((e) => e.code === 'RESOURCE_NOT_FOUND')) return;
    throwIfFailed(done, what);
  }

  async close(): Promise<void> {
    await this.#api.close();
  }

  #acceptExisting(existing: GceRoute, destination: string, nextHop: NextHop): void {
    const c = classifyRoute(existing, this.#ctx);
    if (c.kind === 'owned' && c.entry.destination === destination && sameNextHop(c.entry.nextHop, nextHop)) return;
    const holder = c.kind === 'owned' ? `tartan's route to ${c.entry.nextHop?.id}` : `a route that is not tartan's (${existing.description ?? 'no description'})`;
    throw new ConflictError(`route ${existing.name} for ${destination} already exists as ${holder}; wanted ${nextHop.id}`);
  }

  async #getRoute(name: string, signal: AbortSignal): Promise<GceRoute | undefined> {
    try {
      return await this.#caller.call('routes.get', signal, () => this.#api.getRoute(name, signal));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Every route of the network, all pages. */
  async #networkRoutes(signal: AbortSignal): Promise<GceRoute[]> {
    const filter = `network eq ".*/${escapeRegex(this.#networkPath)}"`;
    const out: GceRoute[] = [];
    let pageToken: string | undefined;
    for (let pages = 0; pages < 10_000; pages++) {
      const page = await this.#caller.call('routes.list', signal, () =>
        this.#api.listRoutes({ filter, maxResults: this.#o.pageSize, pageToken }, signal));
      out.push(...page.items.filter((r) => this.#isOurNetwork(r.network)));
      pageToken = page.nextPageToken;
      if (!pageToken) return out;
    }
    throw new Error(`routes.list for ${this.#networkPath} did not end after 10000 pages`);
  }

  async #instances(filter: string | undefined, signal: AbortSignal): Promise<GceInstance[]> {
    return this.#caller.call('instances.aggregatedList', signal, () => this.#api.listInstances(filter, signal));
  }

  #isOurNetwork(url: string): boolean {
    return url === this.#networkPath || url.endsWith(`/${this.#networkPath}`);
  }

  #clusterDestination(destination: string): string {
    const cidr = parseCidr(destination, 'destination');
    if (!this.#o.clusterNetworks.some((n) => contains(n, cidr))) {
      throw new InvalidInputError('destination', destination, 'is outside the cluster Network; tartan would not own such a route');
    }
    return formatCidr(cidr);
  }

  #checkTable(table: string): void {
    if (table !== this.#o.network) throw new NotFoundError(`GCE provider manages network ${this.#o.network}, not ${table}`);
  }

  #await(signal: AbortSignal): Parameters<typeof awaitOperation>[2] {
    return {
      api: this.#api, caller: this.#caller, clock: this.#o.clock, signal,
      pollIntervalMs: this.#o.operationPollIntervalMs, timeoutMs: this.#o.operationTimeoutMs,
    };
  }
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
