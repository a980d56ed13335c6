// What the single-route and batch writers share: paginated reads, lookups by
// destination, the write lock, waiting for entries to settle, and the mapping
// of API codes to tartan's typed errors.
import { InvalidInputError, NotFoundError, QuotaExceededError } from '../../src/errors.ts';
import { contains, equalCidr, formatCidr, parseCidr } from '../../src/net/cidr.ts';
import type { DesiredRoute } from '../route-table.ts';
import { AlicloudApiError, type ApiRouteEntry, type VpcApi } from './api.ts';
import { type Caller, createCaller } from './caller.ts';
import { KeyedMutex } from './mutex.ts';
import type { ResolvedOptions } from './options.ts';
import { type Classified, classify, isQuotaCode, type Marker, markerFor, NEXT_HOP_NOT_FOUND_CODES } from './ownership.ts';
import { type SettleKind, Settler } from './settle.ts';

const TABLE_NOT_FOUND = new Set(['InvalidRouteTableId.NotFound', 'InvalidRouteTable.NotFound']);

export class ProviderCore {
  readonly o: ResolvedOptions;
  readonly api: VpcApi;
  readonly caller: Caller;
  readonly marker: Marker;
  readonly #locks = new KeyedMutex();
  readonly #settler: Settler;

  constructor(api: VpcApi, o: ResolvedOptions) {
    this.o = o;
    this.api = api;
    this.caller = createCaller(o);
    this.marker = markerFor(o.clusterName);
    this.#settler = new Settler(o);
  }

  /** Runs `fn` as the only writer of its scope (the VPC by default, or the table). */
  async write<T>(table: string, fn: () => Promise<T>): Promise<T> {
    return await this.#locks.run(this.o.writeLockScope === 'vpc' ? `vpc:${this.o.vpcId}` : `table:${table}`, fn);
  }

  /** Every entry of a table (optionally one type or one destination), across pages. */
  async listEntries(table: string, signal: AbortSignal, filter: { type?: string; destination?: string } = {}): Promise<ApiRouteEntry[]> {
    const out: ApiRouteEntry[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.caller.call('DescribeRouteEntryList', signal, () =>
        this.api.describeRouteEntryList({ tableId: table, ...filter, maxResult: 100, nextToken }, signal),
      ).catch((err: unknown) => {
        throw this.mapError(err, table);
      });
      out.push(...page.entries);
      nextToken = page.nextToken;
    } while (nextToken);
    return out;
  }

  /** The entry at `destination`, if any (one filtered read). */
  async lookup(table: string, destination: string, signal: AbortSignal): Promise<ApiRouteEntry | undefined> {
    const want = parseCidr(destination, 'destination');
    const entries = await this.listEntries(table, signal, { destination });
    return entries.find((e) => sameDestination(e.destination, want));
  }

  classify(e: ApiRouteEntry): Classified {
    return classify(e, this.marker, this.o.networks);
  }

  /** Polls one destination until `done` (Available after a create, gone after a delete). */
  async settleOne(
    kind: SettleKind, table: string, destination: string, signal: AbortSignal, done: (e: ApiRouteEntry | undefined) => boolean,
  ): Promise<ApiRouteEntry | undefined> {
    return await this.#settler.until(kind, signal, () => this.lookup(table, destination, signal), done, `${kind} ${destination} in ${table}`);
  }

  /** Polls the whole table until `done` (batches: one read covers every entry of the batch). */
  async settleTable(kind: SettleKind, table: string, signal: AbortSignal, done: (entries: ApiRouteEntry[]) => boolean): Promise<ApiRouteEntry[]> {
    return await this.#settler.until(kind, signal, () => this.listEntries(table, signal, { type: 'Custom' }), done, `${kind} batch in ${table}`);
  }

  /** A desired route tartan may write: an instance next hop and a destination inside a cluster Network. */
  checkDesired(route: DesiredRoute): string {
    const dest = parseCidr(route.destination, 'route.destination');
    if (!this.o.networks.some((n) => contains(n, dest))) {
      throw new InvalidInputError('route.destination', route.destination, 'is outside the cluster Network');
    }
    if (route.nextHop.kind !== 'instance' || !/^i-[a-z0-9]+$/.test(route.nextHop.id)) {
      throw new InvalidInputError('route.nextHop', route.nextHop, 'Alibaba routes here go to an ECS instance (i-…)');
    }
    return formatCidr(dest);
  }

  /** API codes that have a tartan meaning become typed errors; the rest pass through. */
  mapError(err: unknown, table: string, destination?: string): unknown {
    if (!(err instanceof AlicloudApiError)) return err;
    const what = destination ? `route ${destination} in ${table}` : `route table ${table}`;
    if (isQuotaCode(err.code)) return new QuotaExceededError(`${what}: route table is full (${err.code})`, { cause: err });
    if (TABLE_NOT_FOUND.has(err.code)) return new NotFoundError(`route table ${table} does not exist in ${this.o.regionId}`, { cause: err });
    if (NEXT_HOP_NOT_FOUND_CODES.has(err.code)) return new NotFoundError(`${what}: the next hop instance does not exist`, { cause: err });
    return err;
  }
}

export function sameDestination(text: string, want: ReturnType<typeof parseCidr>): boolean {
  try {
    return equalCidr(parseCidr(text.includes('/') ? text : `${text}/32`, 'destination'), want);
  } catch {
    return false;
  }
}
