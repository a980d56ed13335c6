// The AWS VPC route-table provider: every managed table, ownership by the rules in
// routes.ts, client-side rate limits shared by all tables, retries that are ours.
import { ConflictError, InvalidInputError, NotFoundError, NotOwnedError, QuotaExceededError } from '../../src/errors.ts';
import { formatRouteDomain } from '../../src/lease/hybrid.ts';
import { contains, formatCidr, parseCidr } from '../../src/net/cidr.ts';
import type {
  ApiCallCounts, DesiredRoute, HostPreparation, HostPreparer, HostRef, NextHop, RouteEntry, RouteListing,
  RouteDomainSource, RouteReplacer, RouteTableRef, RouteTableWriter, TableCandidate, TableCapacity, TableLookup,
} from '../route-table.ts';
import { type Ec2Api, Ec2ApiError, type Ec2ApiOptions, type Ec2Filter, type Ec2Instance, type Ec2RouteTable } from './api.ts';
import { type Caller, createCaller } from './caller.ts';
import { FILTER_CHUNK, HostDirectory } from './hosts.ts';
import type { ResolvedOptions } from './options.ts';
import { decide } from './prepare.ts';
import { classify, findRoute, isOwned, quotaUse, targets } from './routes.ts';

/** How long one DescribeRouteTables answer serves listRoutes/capacity (one pass). */
const RECENT_MS = 2000;

export class AwsProvider implements RouteTableWriter, RouteReplacer, HostPreparer, TableLookup, RouteDomainSource {
  readonly provider = 'aws' as const;
  /** EC2 routes carry no tag or description: ownership comes from the controller's ledger. */
  readonly marksRoutes = false;
  readonly #o: ResolvedOptions;
  readonly #api: Ec2Api;
  readonly #caller: Caller;
  readonly #hosts: HostDirectory;
  readonly #recent = new Map<string, { table: Ec2RouteTable; at: number }>();

  /** `createApi` is api.ts's createEc2Api; the provider hands it the rate limiter to wait on. */
  constructor(o: ResolvedOptions, createApi: (opts: Ec2ApiOptions) => Ec2Api) {
    this.#o = o;
    this.#caller = createCaller({
      buckets: { mutating: o.mutating, describe: o.describe }, maxInFlight: o.maxInFlight, retry: o.retry, clock: o.clock, logger: o.logger,
    });
    this.#api = createApi({
      region: o.region, endpoint: o.endpoint, credentials: o.credentials, requestTimeoutMs: o.requestTimeoutMs, beforeSend: this.#caller.beforeSend,
    });
    this.#hosts = new HostDirectory({ api: this.#api, caller: this.#caller, clock: o.clock, ttlMs: o.hostCacheTtlMs, vpcId: o.vpcId, logger: o.logger });
  }

  // --- RouteTableReader ----------------------------------------------------
  async tables(signal: AbortSignal): Promise<readonly RouteTableRef[]> {
    const found = await this.#managedTables(signal);
    return found.map((t) => ({ id: t.id, name: t.tags.Name })).sort((a, b) => a.id.localeCompare(b.id));
  }

  // --- RouteDomainSource -----------------------------------------------------
  /** --vpc-id, else the one VPC of the managed tables (none found, or several VPCs: an error naming --vpc-id). */
  async routeDomain(signal: AbortSignal): Promise<string> {
    if (this.#o.vpcId !== undefined) return formatRouteDomain({ cloud: 'aws', vpcId: this.#o.vpcId });
    const found = await this.#managedTables(signal);
    const vpcs = [...new Set(found.flatMap((t) => (t.vpcId ? [t.vpcId] : [])))].sort();
    if (vpcs.length === 1) return formatRouteDomain({ cloud: 'aws', vpcId: vpcs[0]! });
    throw new InvalidInputError('--vpc-id', undefined, vpcs.length === 0
      ? 'is needed: no managed route table was found to learn the VPC from'
      : `is needed: the managed route tables are in ${vpcs.length} VPCs (${vpcs.join(', ')}); one controller routes one VPC`);
  }

  async #managedTables(signal: AbortSignal): Promise<Ec2RouteTable[]> {
    const sel = this.#o.routeTables;
    const vpc: Ec2Filter[] = this.#o.vpcId === undefined ? [] : [{ name: 'vpc-id', values: [this.#o.vpcId] }];
    const found = 'ids' in sel
      ? await this.#describeTables({ ids: sel.ids, filters: vpc }, signal)
      : await this.#describeTables({ filters: [tagFilter(sel.tag.key, sel.tag.value), ...vpc] }, signal);
    if ('ids' in sel) {
      const missing = sel.ids.filter((id) => !found.some((t) => t.id === id));
      if (missing.length > 0) throw new NotFoundError(`route tables ${missing.join(', ')} not found${this.#o.vpcId ? ` in ${this.#o.vpcId}` : ''}`);
    }
    this.#remember(found);
    return found;
  }

  // --- TableLookup -----------------------------------------------------------
  get tableTag(): TableLookup['tableTag'] {
    const sel = this.#o.routeTables;
    return 'tag' in sel ? sel.tag : undefined;
  }

  /** The VPC's tables (every VPC without --vpc-id) whatever their tags: one DescribeRouteTables page of 100. */
  async candidateTables(signal: AbortSignal): Promise<readonly TableCandidate[]> {
    const filters: Ec2Filter[] = this.#o.vpcId === undefined ? [] : [{ name: 'vpc-id', values: [this.#o.vpcId] }];
    try {
      const page = await this.#caller.call('DescribeRouteTables', signal, () => this.#api.describeRouteTables({ filters, maxResults: 100 }, signal));
      return page.items.map((t) => ({ id: t.id, name: t.tags.Name, tags: t.tags }));
    } catch (err) {
      throw mapError(err, 'describe route tables (candidates)');
    }
  }

  async listRoutes(table: string, signal: AbortSignal): Promise<RouteListing> {
    return classify(await this.#recentTable(table, signal), this.#o.networks);
  }

  /** IPv4 and IPv6 routes each have a quota of routeQuota; `used` is the fuller family's count. */
  async capacity(table: string, signal: AbortSignal): Promise<TableCapacity> {
    const use = quotaUse(await this.#recentTable(table, signal));
    return { quota: this.#o.routeQuota, used: Math.max(use.v4, use.v6) };
  }

  async resolveHosts(hosts: readonly HostRef[], signal: AbortSignal): Promise<ReadonlyMap<string, NextHop>> {
    return this.#hosts.resolve(hosts, signal);
  }

  calls(): ApiCallCounts {
    return this.#caller.counts();
  }

  // --- RouteTableWriter ----------------------------------------------------
  async createRoute(table: string, route: DesiredRoute, signal: AbortSignal): Promise<void> {
    const destination = this.#destination(route.destination);
    for (let attempt = 0; ; attempt++) {
      try {
        await this.#mutate(table, () => this.#caller.call('CreateRoute', signal, () => this.#api.createRoute({ table, destination, target: route.nextHop }, signal)));
        return;
      } catch (err) {
        if (!(err instanceof Ec2ApiError) || err.code !== 'RouteAlreadyExists') throw mapWriteError(err, route, `create route ${destination} in ${table}`);
      }
      // EC2 answers RouteAlreadyExists even for the very same route: look at what is there.
      const existing = findRoute(await this.#table(table, signal), destination);
      if (existing === undefined && attempt === 0) continue; // deleted meanwhile: one more try
      if (existing !== undefined && isOwned(existing, this.#o.networks) && targets(existing, route.nextHop)) return;
      const why = existing === undefined ? 'keeps changing' : isOwned(existing, this.#o.networks) ? 'already goes to another next hop' : "already exists and is not tartan's";
      throw new ConflictError(`route ${destination} in ${table} ${why}`);
    }
  }

  async deleteRoute(table: string, route: RouteEntry, signal: AbortSignal): Promise<void> {
    const destination = this.#ownedDestination(table, route);
    // The caller's listing may be stale: re-read, so nothing foreign is ever deleted.
    const current = findRoute(await this.#table(table, signal), destination);
    if (current === undefined) return;
    if (!isOwned(current, this.#o.networks)) throw new NotOwnedError(`route ${destination} in ${table} is not tartan's`);
    if (route.nextHop !== undefined && !targets(current, route.nextHop)) {
      throw new ConflictError(`route ${destination} in ${table} changed since it was listed; not deleting`);
    }
    try {
      await this.#mutate(table, () => this.#caller.call('DeleteRoute', signal, () => this.#api.deleteRoute({ table, destination }, signal)));
    } catch (err) {
      if (err instanceof Ec2ApiError && err.code === 'InvalidRoute.NotFound') return;
      throw mapError(err, `delete route ${destination} in ${table}`);
    }
  }

  // --- RouteReplacer -------------------------------------------------------
  async replaceRoute(table: string, route: DesiredRoute, signal: AbortSignal): Promise<void> {
    const destination = this.#destination(route.destination);
    const current = findRoute(await this.#table(table, signal), destination);
    if (current === undefined) throw new NotFoundError(`route ${destination} in ${table} does not exist`);
    if (!isOwned(current, this.#o.networks)) throw new NotOwnedError(`route ${destination} in ${table} is not tartan's`);
    if (targets(current, route.nextHop)) return;
    try {
      await this.#mutate(table, () => this.#caller.call('ReplaceRoute', signal, () => this.#api.replaceRoute({ table, destination, target: route.nextHop }, signal)));
    } catch (err) {
      throw mapWriteError(err, route, `replace route ${destination} in ${table}`);
    }
  }

  // --- HostPreparer --------------------------------------------------------
  async prepareHosts(nextHops: readonly NextHop[], signal: AbortSignal): Promise<readonly HostPreparation[]> {
    // Hosts just resolved were described moments ago: their SourceDestCheck is known.
    const { found, missing } = this.#hosts.recent(nextHops);
    const ids = (kind: NextHop['kind']): string[] => [...new Set(missing.filter((h) => h.kind === kind).map((h) => h.id))];
    const instances = [
      ...found,
      ...await this.#describeInstancesBy('instance-id', ids('instance'), signal),
      ...await this.#describeInstancesBy('network-interface.network-interface-id', ids('eni'), signal),
    ];
    const decisions = nextHops.map((hop) => decide(hop, instances));
    const fixed = new Map<string, string | undefined>(); // interface or instance id → failure reason
    for (const d of decisions) {
      if (d.action !== 'fix' || fixed.has(d.networkInterfaceId ?? d.instanceId)) continue;
      fixed.set(d.networkInterfaceId ?? d.instanceId, await this.#turnOffSourceDestCheck(d, signal));
      this.#hosts.forgetInstance(d.instanceId);
    }
    return nextHops.map((nextHop, i): HostPreparation => {
      const d = decisions[i]!;
      if (d.action === 'ok') return { nextHop, result: 'ok' };
      if (d.action === 'unfixable') return { nextHop, result: 'unfixable', reason: d.reason };
      const failure = fixed.get(d.networkInterfaceId ?? d.instanceId);
      return failure === undefined ? { nextHop, result: 'changed' } : { nextHop, result: 'unfixable', reason: failure };
    });
  }

  /** Releases the SDK client's sockets. */
  close(): void {
    this.#api.close();
  }

  /** Returns undefined on success, or why EC2 refused (e.g. UnauthorizedOperation). */
  async #turnOffSourceDestCheck(fix: { instanceId: string; networkInterfaceId?: string }, signal: AbortSignal): Promise<string | undefined> {
    const { instanceId, networkInterfaceId } = fix;
    const operation = networkInterfaceId === undefined ? 'ModifyInstanceAttribute' : 'ModifyNetworkInterfaceAttribute';
    try {
      await this.#caller.call(operation, signal, () => (networkInterfaceId === undefined
        ? this.#api.setSourceDestCheck({ instanceId, value: false }, signal)
        : this.#api.setInterfaceSourceDestCheck({ networkInterfaceId, value: false }, signal)));
      return undefined;
    } catch (err) {
      if (err instanceof Ec2ApiError) return `${operation} failed: ${err.code}: ${err.message}`;
      throw err;
    }
  }

  async #describeInstancesBy(filter: string, values: readonly string[], signal: AbortSignal): Promise<Ec2Instance[]> {
    const out: Ec2Instance[] = [];
    for (let i = 0; i < values.length; i += FILTER_CHUNK) {
      out.push(...await this.#hosts.describe([{ name: filter, values: values.slice(i, i + FILTER_CHUNK) }], signal));
    }
    return out;
  }

  async #table(id: string, signal: AbortSignal): Promise<Ec2RouteTable> {
    const [t] = await this.#describeTables({ ids: [id] }, signal);
    if (!t) throw new NotFoundError(`route table ${id} not found`);
    this.#remember([t]);
    return t;
  }

  /**
   * DescribeRouteTables returns every table with all its routes, so the one call of
   * tables() also answers listRoutes() and capacity() for the same pass: one read
   * per resync in steady state. The copy is used for RECENT_MS and forgotten on any
   * write to that table; writes' own checks always read afresh (#table).
   */
  async #recentTable(id: string, signal: AbortSignal): Promise<Ec2RouteTable> {
    const seen = this.#recent.get(id);
    if (seen && this.#o.clock.now() - seen.at < RECENT_MS) return seen.table;
    return await this.#table(id, signal);
  }

  /** A write to `table`: the recent copy is forgotten before and after it. */
  async #mutate(table: string, write: () => Promise<unknown>): Promise<void> {
    this.#recent.delete(table);
    try {
      await write();
    } finally {
      this.#recent.delete(table);
    }
  }

  #remember(tables: readonly Ec2RouteTable[]): void {
    const at = this.#o.clock.now();
    for (const table of tables) this.#recent.set(table.id, { table, at });
  }

  async #describeTables(q: { ids?: readonly string[]; filters?: readonly Ec2Filter[] }, signal: AbortSignal): Promise<Ec2RouteTable[]> {
    const out: Ec2RouteTable[] = [];
    let nextToken: string | undefined;
    try {
      do {
        const page = await this.#caller.call('DescribeRouteTables', signal, () =>
          this.#api.describeRouteTables({ ...q, maxResults: 100, nextToken }, signal));
        out.push(...page.items);
        nextToken = page.nextToken;
      } while (nextToken !== undefined);
    } catch (err) {
      throw mapError(err, `describe route tables ${q.ids?.join(', ') ?? ''}`.trim());
    }
    return out;
  }

  /** A destination tartan may write: a canonical CIDR inside the cluster Network. */
  #destination(text: string): string {
    const cidr = parseCidr(text, 'destination');
    if (!this.#o.networks.some((n) => contains(n, cidr))) throw new InvalidInputError('destination', text, 'is outside the cluster Network');
    return formatCidr(cidr);
  }

  #ownedDestination(table: string, route: RouteEntry): string {
    if (!route.owned) throw new NotOwnedError(`route ${route.destination} in ${table} is not tartan's`);
    try {
      return this.#destination(route.destination);
    } catch (err) {
      throw new NotOwnedError(`route ${route.destination} in ${table} is not tartan's`, { cause: err });
    }
  }
}

function tagFilter(key: string, value: string | undefined): Ec2Filter {
  return value === undefined ? { name: 'tag-key', values: [key] } : { name: `tag:${key}`, values: [value] };
}

/** As mapError, plus EC2's refusal to route to an instance with several interfaces. */
function mapWriteError(err: unknown, route: DesiredRoute, what: string): unknown {
  if (err instanceof Ec2ApiError && err.code === 'InvalidInstanceID') {
    return new InvalidInputError('nextHop', route.nextHop, 'the instance has several network interfaces; route by the interface that carries the host address', { cause: err });
  }
  return mapError(err, what);
}

function mapError(err: unknown, what: string): unknown {
  if (!(err instanceof Ec2ApiError)) return err;
  if (err.code.endsWith('.NotFound')) return new NotFoundError(`${what}: ${err.message}`, { cause: err });
  if (err.code === 'RouteLimitExceeded') return new QuotaExceededError(`${what}: ${err.message}`, { cause: err });
  return new Error(`${what}: EC2 ${err.code}: ${err.message}`, { cause: err });
}
