// The only file that imports the Alibaba Cloud SDK. It turns SDK models into
// plain records and SDK failures into two kinds: RetryableError (throttling,
// 5xx, dropped connections) and AlicloudApiError (everything the API answered
// with a code). The SDK's own retries stay off (no retryOptions), so every
// attempt is ours, rate-limited and counted.
import * as OpenApi from '@alicloud/openapi-core';
import VpcSdk, {
  CreateRouteEntriesRequest, CreateRouteEntriesRequestRouteEntries, CreateRouteEntryRequest, DeleteRouteEntriesRequest,
  DeleteRouteEntriesRequestRouteEntries, DeleteRouteEntryRequest, DescribeRouteEntryListRequest, DescribeRouteTableListRequest,
  DescribeRouteTableListRequestTag, ModifyRouteEntryRequest,
} from '@alicloud/vpc20160428';
import { RetryableError } from '../../src/errors.ts';

export interface ApiRouteTable {
  readonly id: string;
  readonly vpcId: string;
  readonly name: string;
  readonly type: string;
}

export interface ApiNextHop {
  readonly type: string;
  readonly id: string;
  /** 0 when the next hop is unusable (e.g. its instance was released). */
  readonly enabled?: number | undefined;
}

export interface ApiRouteEntry {
  readonly id: string;
  readonly tableId: string;
  readonly destination: string;
  readonly name: string;
  readonly description: string;
  /** System | Custom | BGP | CEN | ECR */
  readonly type: string;
  /** Pending | Available | Modifying | Deleting */
  readonly status: string;
  readonly nextHops: readonly ApiNextHop[];
}

export interface TableQuery {
  readonly vpcId: string;
  readonly routeTableId?: string | undefined;
  readonly type?: 'System' | 'Custom' | undefined;
  readonly tag?: { readonly key: string; readonly value: string } | undefined;
  readonly pageNumber: number;
  readonly pageSize: number;
}

export interface EntryQuery {
  readonly tableId: string;
  readonly type?: string | undefined;
  readonly destination?: string | undefined;
  readonly maxResult: number;
  readonly nextToken?: string | undefined;
}

export interface NewRouteEntry {
  readonly tableId: string;
  readonly destination: string;
  readonly instanceId: string;
  readonly name: string;
  readonly description: string;
}

export interface BatchFailure {
  readonly destination: string;
  readonly nextHop: string;
  readonly routeEntryId?: string | undefined;
  readonly code: string;
  readonly message: string;
}

/** The VPC API as the provider needs it; createVpcApi binds it to the SDK, tests may bind it to anything. */
export interface VpcApi {
  describeRouteTableList(q: TableQuery, signal: AbortSignal): Promise<{ tables: ApiRouteTable[]; totalCount: number }>;
  describeRouteEntryList(q: EntryQuery, signal: AbortSignal): Promise<{ entries: ApiRouteEntry[]; nextToken?: string | undefined }>;
  createRouteEntry(e: NewRouteEntry & { clientToken: string }, signal: AbortSignal): Promise<{ routeEntryId: string }>;
  createRouteEntries(e: readonly NewRouteEntry[], signal: AbortSignal): Promise<{ routeEntryIds: string[]; failed: BatchFailure[] }>;
  deleteRouteEntry(e: { tableId: string; routeEntryId: string }, signal: AbortSignal): Promise<void>;
  deleteRouteEntries(e: readonly { tableId: string; routeEntryId: string }[], signal: AbortSignal): Promise<{ failed: BatchFailure[] }>;
  modifyRouteEntry(e: { routeEntryId: string; newInstanceId: string }, signal: AbortSignal): Promise<void>;
}

/** An error the API answered with a code (4xx other than throttling). */
export class AlicloudApiError extends Error {
  readonly code: string;
  readonly status: number | undefined;
  readonly requestId: string | undefined;
  constructor(code: string, message: string, opts: { status?: number | undefined; requestId?: string | undefined; cause?: unknown }) {
    super(message.startsWith(code) ? message : `${code}: ${message}`, { cause: opts.cause });
    this.name = 'AlicloudApiError';
    this.code = code;
    this.status = opts.status;
    this.requestId = opts.requestId;
  }
}

/** Why a RetryableError from this file happened, for counting. */
export type TransientKind = 'throttled' | 'server_error' | 'network';

export class TransientApiError extends RetryableError {
  readonly kind: TransientKind;
  readonly code: string;
  constructor(kind: TransientKind, code: string, message: string, opts: { retryAfterMs?: number; cause?: unknown }) {
    super(message.startsWith(code) ? message : `${code}: ${message}`, opts);
    this.kind = kind;
    this.code = code;
  }
}

export interface VpcApiOptions {
  readonly regionId: string;
  /** `host:port` or a URL; `http://…` switches the SDK to plain HTTP (emulators). */
  readonly endpoint?: string | undefined;
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
  readonly securityToken?: string | undefined;
  readonly readTimeoutMs?: number | undefined;
  readonly connectTimeoutMs?: number;
}

export function createVpcApi(opts: VpcApiOptions): VpcApi {
  const { host, protocol } = splitEndpoint(opts.endpoint);
  const client = new VpcSdk.default(new OpenApi.$OpenApiUtil.Config({
    accessKeyId: opts.accessKeyId,
    accessKeySecret: opts.accessKeySecret,
    securityToken: opts.securityToken,
    regionId: opts.regionId,
    endpoint: host,
    protocol,
    readTimeout: opts.readTimeoutMs ?? 10_000,
    connectTimeout: opts.connectTimeoutMs ?? 5_000,
  }));
  const ctx: Bound = {
    client,
    regionId: opts.regionId,
    call: (signal, fn) => raceAbort(signal, fn().catch((err: unknown) => {
      throw translateError(err);
    })),
  };
  return { ...readMethods(ctx), ...writeMethods(ctx) };
}

interface Bound {
  readonly client: InstanceType<typeof VpcSdk.default>;
  readonly regionId: string;
  readonly call: <T>(signal: AbortSignal, fn: () => Promise<T>) => Promise<T>;
}

function readMethods({ client, regionId, call }: Bound): Pick<VpcApi, 'describeRouteTableList' | 'describeRouteEntryList'> {
  return {
    describeRouteTableList: async (q, signal) => {
      const res = await call(signal, () => client.describeRouteTableList(new DescribeRouteTableListRequest({
        regionId, vpcId: q.vpcId, routeTableId: q.routeTableId, routeTableType: q.type, pageNumber: q.pageNumber, pageSize: q.pageSize,
        tag: q.tag ? [new DescribeRouteTableListRequestTag({ key: q.tag.key, value: q.tag.value })] : undefined,
      })));
      const list = res.body?.routerTableList?.routerTableListType ?? [];
      return {
        totalCount: res.body?.totalCount ?? list.length,
        tables: list.map((t) => ({ id: t.routeTableId ?? '', vpcId: t.vpcId ?? '', name: t.routeTableName ?? '', type: t.routeTableType ?? '' })),
      };
    },
    describeRouteEntryList: async (q, signal) => {
      const res = await call(signal, () => client.describeRouteEntryList(new DescribeRouteEntryListRequest({
        regionId, routeTableId: q.tableId, routeEntryType: q.type, destinationCidrBlock: q.destination, maxResult: q.maxResult, nextToken: q.nextToken,
      })));
      const entries = (res.body?.routeEntrys?.routeEntry ?? []).map((e) => ({
        id: e.routeEntryId ?? '',
        tableId: e.routeTableId ?? q.tableId,
        destination: e.destinationCidrBlock ?? '',
        name: e.routeEntryName ?? '',
        description: e.description ?? '',
        type: e.type ?? '',
        status: e.status ?? '',
        nextHops: (e.nextHops?.nextHop ?? []).map((h) => ({ type: h.nextHopType ?? '', id: h.nextHopId ?? '', enabled: h.enabled })),
      }));
      return { entries, nextToken: res.body?.nextToken || undefined };
    },
  };
}

function writeMethods({ client, regionId, call }: Bound): Omit<VpcApi, 'describeRouteTableList' | 'describeRouteEntryList'> {
  return {
    createRouteEntry: async (e, signal) => {
      const res = await call(signal, () => client.createRouteEntry(new CreateRouteEntryRequest({
        regionId, routeTableId: e.tableId, destinationCidrBlock: e.destination, nextHopType: 'Instance', nextHopId: e.instanceId,
        routeEntryName: e.name, description: e.description, clientToken: e.clientToken,
      })));
      return { routeEntryId: res.body?.routeEntryId ?? '' };
    },
    createRouteEntries: async (items, signal) => {
      const res = await call(signal, () => client.createRouteEntries(new CreateRouteEntriesRequest({
        regionId,
        routeEntries: items.map((e) => new CreateRouteEntriesRequestRouteEntries({
          routeTableId: e.tableId, dstCidrBlock: e.destination, nextHop: e.instanceId, nextHopType: 'Instance',
          ipVersion: e.destination.includes(':') ? 6 : 4, name: e.name, description: e.description,
        })),
      })));
      return { routeEntryIds: res.body?.routeEntryIds ?? [], failed: (res.body?.failedRouteEntries ?? []).map(toFailure) };
    },
    deleteRouteEntry: async (e, signal) => {
      await call(signal, () => client.deleteRouteEntry(new DeleteRouteEntryRequest({ regionId, routeTableId: e.tableId, routeEntryId: e.routeEntryId })));
    },
    deleteRouteEntries: async (items, signal) => {
      const res = await call(signal, () => client.deleteRouteEntries(new DeleteRouteEntriesRequest({
        regionId,
        routeEntries: items.map((e) => new DeleteRouteEntriesRequestRouteEntries({ routeTableId: e.tableId, routeEntryId: e.routeEntryId })),
      })));
      return { failed: (res.body?.failedRouteEntries ?? []).map(toFailure) };
    },
    modifyRouteEntry: async (e, signal) => {
      await call(signal, () => client.modifyRouteEntry(new ModifyRouteEntryRequest({
        regionId, routeEntryId: e.routeEntryId, newNextHopId: e.newInstanceId, newNextHopType: 'Instance',
      })));
    },
  };
}

function toFailure(f: { dstCidrBlock?: string; nextHop?: string; failedCode?: string; failedMessage?: string; routeEntryId?: string }): BatchFailure {
  return { destination: f.dstCidrBlock ?? '', nextHop: f.nextHop ?? '', routeEntryId: f.routeEntryId, code: f.failedCode ?? '', message: f.failedMessage ?? '' };
}

/** SDK failure → TransientApiError (retry) or AlicloudApiError (decide by code). */
export function translateError(err: unknown): Error {
  if (err instanceof OpenApi.ThrottlingError) {
    const retryAfterMs = typeof err.retryAfter === 'number' && err.retryAfter > 0 ? err.retryAfter : undefined;
    return new TransientApiError('throttled', err.code, err.message, { cause: err, ...(retryAfterMs ? { retryAfterMs } : {}) });
  }
  if (err instanceof OpenApi.ServerError) return new TransientApiError('server_error', err.code, err.message, { cause: err });
  if (err instanceof OpenApi.ClientError) {
    if (err.code.includes('Throttling')) return new TransientApiError('throttled', err.code, err.message, { cause: err });
    return new AlicloudApiError(err.code, err.message, { status: err.statusCode, requestId: err.requestId, cause: err });
  }
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return new TransientApiError('network', code, String((err as Error).message), { cause: err });
  if (err instanceof Error && /socket hang up|ECONNRESET|timeout/i.test(err.message)) {
    return new TransientApiError('network', 'ConnectionError', err.message, { cause: err });
  }
  return err instanceof Error ? err : new Error(String(err));
}

const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'ECONNABORTED', 'EAI_AGAIN', 'ReadTimeout', 'ConnectTimeout']);

function splitEndpoint(endpoint: string | undefined): { host: string | undefined; protocol: string } {
  if (endpoint === undefined) return { host: undefined, protocol: 'https' };
  const m = /^(https?):\/\/([^/]+)\/?$/.exec(endpoint);
  return m ? { host: m[2], protocol: m[1]! } : { host: endpoint, protocol: 'https' };
}

/** The SDK takes no AbortSignal; stop waiting for it when the signal fires. */
async function raceAbort<T>(signal: AbortSignal, p: Promise<T>): Promise<T> {
  signal.throwIfAborted();
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([p, aborted]);
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}
