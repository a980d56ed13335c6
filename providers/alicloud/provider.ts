// Alibaba Cloud VPC route tables as a tartan RouteTableWriter. Writes are
// asynchronous in this API (Pending → Available, Deleting → gone) and one
// unsettled entry blocks every other write in the VPC, so each write holds the
// write lock until its entries have settled: the next writer never collides.
import { randomUUID } from 'node:crypto';
import { ConflictError, NotFoundError, NotOwnedError, RetryableError } from '../../src/errors.ts';
import { formatRouteDomain } from '../../src/lease/hybrid.ts';
import {
  type ApiCallCounts, type BatchResult, type BatchRouteWriter, type DesiredRoute, type HostRef, type NextHop, type RouteEntry,
  type RouteDomainSource, type RouteListing, type RouteReplacer, type RouteTableRef, type RouteTableWriter, type TableCapacity, sameNextHop,
} from '../route-table.ts';
import { AlicloudApiError, type ApiRouteEntry, type VpcApi } from './api.ts';
import { createRoutes, deleteRoutes } from './batch.ts';
import { ProviderCore } from './core.ts';
import type { ResolvedOptions } from './options.ts';
import { DUPLICATE_CODES, NOT_FOUND_ENTRY_CODES } from './ownership.ts';

export class AlicloudProvider implements RouteTableWriter, BatchRouteWriter, RouteReplacer, RouteDomainSource {
  readonly provider = 'alicloud' as const;
  readonly maxBatch: number;
  readonly #c: ProviderCore;

  constructor(api: VpcApi, o: ResolvedOptions) {
    this.#c = new ProviderCore(api, o);
    this.maxBatch = o.maxBatch;
  }

  /** The VPC of --vpc-id (required for Alibaba): the route domain. */
  async routeDomain(): Promise<string> {
    return formatRouteDomain({ cloud: 'ali', vpcId: this.#c.o.vpcId });
  }

  async tables(signal: AbortSignal): Promise<readonly RouteTableRef[]> {
    const { o, api, caller } = this.#c;
    if (o.routeTableIds) {
      const out: RouteTableRef[] = [];
      for (const id of o.routeTableIds) {
        const { tables } = await caller.call('DescribeRouteTableList', signal, () =>
          api.describeRouteTableList({ vpcId: o.vpcId, routeTableId: id, pageNumber: 1, pageSize: 10 }, signal));
        const t = tables.find((x) => x.id === id);
        if (!t) throw new NotFoundError(`route table ${id} is not in VPC ${o.vpcId} (${o.regionId})`);
        out.push({ id: t.id, name: t.name || undefined });
      }
      return out;
    }
    const found: RouteTableRef[] = [];
    let seen = 0;
    for (let page = 1; ; page++) {
      const { tables, totalCount } = await caller.call('DescribeRouteTableList', signal, () =>
        api.describeRouteTableList({ vpcId: o.vpcId, type: 'Custom', tag: o.tableTag, pageNumber: page, pageSize: 50 }, signal));
      found.push(...tables.filter((t) => t.type === 'Custom').map((t) => ({ id: t.id, name: t.name || undefined })));
      seen += tables.length;
      if (tables.length === 0 || seen >= totalCount) return found;
    }
  }

  async listRoutes(table: string, signal: AbortSignal): Promise<RouteListing> {
    const owned: RouteEntry[] = [];
    const foreign: RouteEntry[] = [];
    for (const e of await this.#c.listEntries(table, signal)) {
      const c = this.#c.classify(e);
      if (c.kind === 'owned') owned.push(c.entry);
      else if (c.kind === 'foreign') foreign.push(c.entry);
    }
    return { owned, foreign };
  }

  /** Alibaba's quota counts Custom entries only; System entries (vSwitch CIDRs) take no place. */
  async capacity(table: string, signal: AbortSignal): Promise<TableCapacity> {
    const custom = await this.#c.listEntries(table, signal, { type: 'Custom' });
    return { quota: this.#c.o.routeQuota, used: custom.length };
  }

  /** No ECS SDK is installed, so hosts resolve from HostRef.instanceId or the hostInstances map; no API call. */
  async resolveHosts(hosts: readonly HostRef[]): Promise<ReadonlyMap<string, NextHop>> {
    const out = new Map<string, NextHop>();
    for (const h of hosts) {
      const id = h.instanceId ?? this.#c.o.hostInstances.get(h.publicIp);
      if (id && /^i-[a-z0-9]+$/.test(id)) out.set(h.publicIp, { kind: 'instance', id });
    }
    return out;
  }

  calls(): ApiCallCounts {
    return this.#c.caller.counts();
  }

  async createRoute(table: string, route: DesiredRoute, signal: AbortSignal): Promise<void> {
    const c = this.#c;
    const destination = c.checkDesired(route);
    await c.write(table, async () => {
      // One token for every attempt: a retry after a dropped answer replays, not duplicates.
      const clientToken = randomUUID();
      try {
        await c.caller.call('CreateRouteEntry', signal, () => c.api.createRouteEntry({
          tableId: table, destination, instanceId: route.nextHop.id, ...c.marker, clientToken,
        }, signal));
      } catch (err) {
        if (err instanceof AlicloudApiError && DUPLICATE_CODES.has(err.code)) return await this.#adopt(table, destination, route.nextHop, signal);
        throw c.mapError(err, table, destination);
      }
      await this.#settled(table, destination, signal);
    });
  }

  async deleteRoute(table: string, route: RouteEntry, signal: AbortSignal): Promise<void> {
    if (!route.owned) throw new NotOwnedError(`route ${route.destination} in ${table} is not tartan's`);
    const c = this.#c;
    await c.write(table, async () => {
      const current = await c.lookup(table, route.destination, signal);
      if (!current) return;
      if (c.classify(current).kind !== 'owned') throw new NotOwnedError(`route ${route.destination} in ${table} is not tartan's (${current.id})`);
      if (route.id !== undefined && route.id !== current.id) {
        throw new ConflictError(`route ${route.destination} in ${table} was replaced (${route.id} → ${current.id}) since it was listed`);
      }
      if (current.status !== 'Deleting') {
        try {
          await c.caller.call('DeleteRouteEntry', signal, () => c.api.deleteRouteEntry({ tableId: table, routeEntryId: current.id }, signal));
        } catch (err) {
          if (err instanceof AlicloudApiError && NOT_FOUND_ENTRY_CODES.has(err.code)) return;
          throw c.mapError(err, table, route.destination);
        }
      }
      await c.settleOne('delete', table, route.destination, signal, (e) => e === undefined || e.id !== current.id);
    });
  }

  /** ModifyRouteEntry changes the next hop in place: no moment without a route, unlike delete + create. */
  async replaceRoute(table: string, route: DesiredRoute, signal: AbortSignal): Promise<void> {
    const c = this.#c;
    const destination = c.checkDesired(route);
    await c.write(table, async () => {
      const current = await c.lookup(table, destination, signal);
      if (!current) throw new NotFoundError(`route ${destination} in ${table} does not exist`);
      const seen = c.classify(current);
      if (seen.kind !== 'owned') throw new NotOwnedError(`route ${destination} in ${table} is not tartan's (${current.id})`);
      if (!sameNextHop(seen.entry.nextHop, route.nextHop) || seen.entry.state === 'blackhole') {
        try {
          await c.caller.call('ModifyRouteEntry', signal, () =>
            c.api.modifyRouteEntry({ routeEntryId: current.id, newInstanceId: route.nextHop.id }, signal));
        } catch (err) {
          if (!(err instanceof AlicloudApiError && err.code === 'OperationDenied.NextHopNotChanged')) throw c.mapError(err, table, destination);
        }
      }
      await this.#settled(table, destination, signal, 'modify');
    });
  }

  async createRoutes(table: string, routes: readonly DesiredRoute[], signal: AbortSignal): Promise<BatchResult> {
    return await createRoutes(this.#c, table, routes, signal);
  }

  async deleteRoutes(table: string, routes: readonly RouteEntry[], signal: AbortSignal): Promise<BatchResult> {
    return await deleteRoutes(this.#c, table, routes, signal);
  }

  /** The destination exists: ours with this next hop is success (once settled), anything else a conflict. */
  async #adopt(table: string, destination: string, nextHop: NextHop, signal: AbortSignal): Promise<void> {
    const c = this.#c;
    const existing = await c.lookup(table, destination, signal);
    if (!existing) throw new ConflictError(`route ${destination} in ${table} was reported as a duplicate but is gone; try again`);
    const seen = c.classify(existing);
    if (seen.kind !== 'owned' || !sameNextHop(seen.entry.nextHop, nextHop)) {
      throw new ConflictError(`route ${destination} in ${table} already exists (${describe(existing)})`);
    }
    if (existing.status !== 'Available') await this.#settled(table, destination, signal);
  }

  /** Waits for the entry at `destination` to be Available; one that disappears meanwhile was deleted by someone else. */
  async #settled(table: string, destination: string, signal: AbortSignal, kind: 'create' | 'modify' = 'create'): Promise<void> {
    const e = await this.#c.settleOne(kind, table, destination, signal, (x) => x === undefined || x.status === 'Available');
    if (!e) throw new RetryableError(`route ${destination} in ${table} was deleted by someone else while it was being written`);
  }
}

export function describe(e: ApiRouteEntry): string {
  const hops = e.nextHops.map((h) => `${h.type}:${h.id}`).join(',') || 'no next hop';
  return `${e.id} → ${hops}, ${e.type}, name ${JSON.stringify(e.name)}`;
}
