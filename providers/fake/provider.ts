// In-memory cloud for unit tests: route tables with quotas, foreign routes,
// instances, and injectable faults. It records every call, and it is checked at
// compile time against the interfaces it claims.
import { ConflictError, NotOwnedError, QuotaExceededError, RetryableError, NotFoundError } from '../../src/errors.ts';
import { overlaps, parseCidr, type Cidr } from '../../src/net/cidr.ts';
import { CallCounter } from '../shared/calls.ts';
import type { Outcome } from '../shared/outcomes.ts';
import {
  type ApiCallCounts, type DesiredRoute, type HostRef, type NextHop, type RouteEntry, type RouteListing,
  type RouteReplacer, type RouteTableRef, type RouteTableWriter, type TableCapacity, sameNextHop,
} from '../route-table.ts';

interface FakeRoute {
  destination: string;
  nextHop?: NextHop | undefined;
  owned: boolean;
  state: RouteEntry['state'];
}

export interface FakeCloudOptions {
  readonly clusterNetworks: readonly string[];
  readonly tables?: readonly string[];
  readonly quota?: number;
}

export interface FakeCall {
  readonly operation: string;
  readonly table?: string | undefined;
  readonly destination?: string | undefined;
}

export class FakeCloud implements RouteTableWriter, RouteReplacer {
  readonly provider = 'fake' as const;
  readonly log: FakeCall[] = [];
  readonly #counter = new CallCounter();
  readonly #tables = new Map<string, { quota: number; routes: Map<string, FakeRoute> }>();
  readonly #instances = new Map<string, NextHop>();
  readonly #networks: Cidr[];
  #faults: Error[] = [];
  /** Routes per list answer: listRoutes reads page after page, one call each, like a cloud. */
  #pageSize = 1000;
  readonly #opFaults = new Map<string, Error[]>();

  constructor(opts: FakeCloudOptions) {
    this.#networks = opts.clusterNetworks.map((n) => parseCidr(n, 'clusterNetworks'));
    for (const id of opts.tables ?? ['rtb-1']) this.#tables.set(id, { quota: opts.quota ?? 50, routes: new Map() });
  }

  // --- test controls -------------------------------------------------------
  addInstance(publicIp: string, nextHop: NextHop): void {
    this.#instances.set(publicIp, nextHop);
  }
  removeInstance(publicIp: string): void {
    const hop = this.#instances.get(publicIp);
    this.#instances.delete(publicIp);
    for (const t of this.#tables.values()) for (const r of t.routes.values()) if (sameNextHop(r.nextHop, hop)) r.state = 'blackhole';
  }
  setQuota(table: string, quota: number): void {
    this.#table(table).quota = quota;
  }
  seedRoute(table: string, destination: string, nextHop?: NextHop, owned = false): void {
    this.#table(table).routes.set(destination, { destination, nextHop, owned, state: 'active' });
  }
  removeRouteByHand(table: string, destination: string): void {
    this.#table(table).routes.delete(destination);
  }
  setPageSize(n: number): void {
    this.#pageSize = n;
  }
  /** The next calls fail with these errors, one each, in order. */
  injectFaults(...errors: Error[]): void {
    this.#faults.push(...errors);
  }
  /** The next calls of one operation fail with these errors, one each, in order. */
  failOperation(operation: string, ...errors: Error[]): void {
    this.#opFaults.set(operation, [...(this.#opFaults.get(operation) ?? []), ...errors]);
  }
  mutations(): FakeCall[] {
    return this.log.filter((c) => ['createRoute', 'deleteRoute', 'replaceRoute'].includes(c.operation));
  }

  // --- RouteTableReader ----------------------------------------------------
  async tables(): Promise<readonly RouteTableRef[]> {
    this.#call('tables');
    return [...this.#tables.keys()].map((id) => ({ id }));
  }

  async listRoutes(table: string): Promise<RouteListing> {
    const owned: RouteEntry[] = [];
    const foreign: RouteEntry[] = [];
    let next: number | undefined = 0;
    do {
      const page = this.#listPage(table, next);
      for (const r of page.routes) {
        const entry: RouteEntry = { table, destination: r.destination, nextHop: r.nextHop, state: r.state, owned: r.owned };
        if (r.owned) owned.push(entry);
        else if (this.#inCluster(r.destination)) foreign.push(entry);
      }
      next = page.next;
    } while (next !== undefined);
    return { owned, foreign };
  }

  async capacity(table: string): Promise<TableCapacity> {
    this.#call('capacity', table);
    const t = this.#table(table);
    return { quota: t.quota, used: t.routes.size };
  }

  async resolveHosts(hosts: readonly HostRef[]): Promise<ReadonlyMap<string, NextHop>> {
    this.#call('resolveHosts');
    const out = new Map<string, NextHop>();
    for (const h of hosts) {
      const hop = this.#instances.get(h.publicIp);
      if (hop) out.set(h.publicIp, hop);
    }
    return out;
  }

  calls(): ApiCallCounts {
    return this.#counter.counts();
  }

  // --- RouteTableWriter ----------------------------------------------------
  async createRoute(table: string, route: DesiredRoute): Promise<void> {
    this.#call('createRoute', table, route.destination);
    const t = this.#table(table);
    const existing = t.routes.get(route.destination);
    if (existing) {
      if (existing.owned && sameNextHop(existing.nextHop, route.nextHop)) return;
      throw new ConflictError(`route ${route.destination} in ${table} already exists with another target`);
    }
    if (t.routes.size >= t.quota) throw new QuotaExceededError(`route table ${table} is full (${t.quota} routes)`);
    t.routes.set(route.destination, { ...route, owned: true, state: 'active' });
  }

  async deleteRoute(table: string, route: RouteEntry): Promise<void> {
    if (!route.owned) throw new NotOwnedError(`route ${route.destination} in ${table} is not tartan's`);
    this.#call('deleteRoute', table, route.destination);
    const t = this.#table(table);
    const existing = t.routes.get(route.destination);
    if (existing && !existing.owned) throw new NotOwnedError(`route ${route.destination} in ${table} is not tartan's`);
    t.routes.delete(route.destination);
  }

  async replaceRoute(table: string, route: DesiredRoute): Promise<void> {
    this.#call('replaceRoute', table, route.destination);
    const existing = this.#table(table).routes.get(route.destination);
    if (!existing) throw new NotFoundError(`route ${route.destination} in ${table} does not exist`);
    if (!existing.owned) throw new NotOwnedError(`route ${route.destination} in ${table} is not tartan's`);
    existing.nextHop = route.nextHop;
    existing.state = 'active';
  }

  #call(operation: string, table?: string, destination?: string): void {
    this.log.push({ operation, table, destination });
    const fault = this.#opFaults.get(operation)?.shift() ?? this.#faults.shift();
    if (fault) {
      this.#counter.record(operation, outcomeOf(fault));
      throw fault;
    }
    this.#counter.record(operation, 'ok');
  }

  /** One list call: at most pageSize routes from `from` on, and where the next page starts. */
  #listPage(table: string, from: number): { routes: FakeRoute[]; next?: number } {
    this.#call('listRoutes', table);
    const all = [...this.#table(table).routes.values()];
    const end = from + this.#pageSize;
    return end < all.length ? { routes: all.slice(from, end), next: end } : { routes: all.slice(from) };
  }

  #table(id: string): { quota: number; routes: Map<string, FakeRoute> } {
    const t = this.#tables.get(id);
    if (!t) throw new NotFoundError(`route table ${id} does not exist`);
    return t;
  }

  #inCluster(destination: string): boolean {
    const cidr = parseCidr(destination, 'destination');
    return this.#networks.some((n) => overlaps(n, cidr));
  }
}

/** An injected fault, counted under the label a cloud's caller would give it. */
function outcomeOf(fault: Error): Outcome {
  if (fault instanceof RetryableError) return 'throttled';
  if (fault instanceof ConflictError) return 'conflict';
  if (fault instanceof NotFoundError) return 'not_found';
  if (fault instanceof QuotaExceededError) return 'quota';
  return 'other';
}
