// An Alibaba Cloud VPC API (RPC style, Version 2016-04-28) on 127.0.0.1 that the
// real @alicloud/vpc20160428 SDK talks to unchanged: `POST /?<params>` signed
// with ACS3-HMAC-SHA256, answered with the reference's JSON bodies and errors.
// The public face of this folder: startAlicloudEmulator.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeRouteEntryList, describeRouteTableList } from './actions-read.ts';
import { createRouteEntries, createRouteEntry, deleteRouteEntries, deleteRouteEntry, modifyRouteEntry } from './actions-write.ts';
import { AlicloudAdmin, type CallRecord, runAdmin } from './admin.ts';
import { ApiError, apiErrors } from './errors.ts';
import { Faults, type FaultKind } from './faults.ts';
import { World, type WorldSettings } from './model.ts';
import { type ActionHandler, newRequestId, type Params } from './params.ts';
import { verifySignature } from './signing.ts';
import { FlowControl, type FlowSettings, WRITE_ACTIONS } from './throttle.ts';

export { AlicloudAdmin, type CallRecord } from './admin.ts';
export type { WorldSettings } from './model.ts';
export type { FaultSpec } from './faults.ts';
export type { FlowSettings, RateLimit } from './throttle.ts';
export { DEFAULT_READ_LIMIT, DEFAULT_WRITE_LIMIT } from './throttle.ts';

export const VPC_VERSION = '2016-04-28';
/** The key pair the emulator knows unless told otherwise. */
export const EMULATOR_ACCESS_KEY = { id: 'tartan-emulator-ak', secret: 'tartan-emulator-secret' } as const;

const HANDLERS: Readonly<Record<string, ActionHandler>> = {
  DescribeRouteTableList: describeRouteTableList,
  DescribeRouteEntryList: describeRouteEntryList,
  CreateRouteEntry: createRouteEntry,
  CreateRouteEntries: createRouteEntries,
  DeleteRouteEntry: deleteRouteEntry,
  DeleteRouteEntries: deleteRouteEntries,
  ModifyRouteEntry: modifyRouteEntry,
};

export interface AlicloudEmulatorOptions {
  /** 0 (default): any free port. */
  readonly port?: number;
  readonly settings?: Partial<WorldSettings>;
  /** AccessKeyId → secret whose signatures are checked; null checks only the signature's shape. */
  readonly accessKeys?: Readonly<Record<string, string>> | null;
  readonly rateLimits?: FlowSettings;
  /** HTTP status of Throttling.User (400 per the public error tables; a knob). */
  readonly throttleStatus?: number;
  /** The emulator's clock for state transitions and flow control. */
  readonly now?: () => number;
  /** x-acs-date may be this far from the wall clock (15 minutes, like the gateway). */
  readonly maxSkewMs?: number;
}

export interface AlicloudEmulator {
  /** `127.0.0.1:<port>`: what the SDK's Config.endpoint takes (with protocol 'http'). */
  readonly endpoint: string;
  readonly url: string;
  readonly port: number;
  readonly admin: AlicloudAdmin;
  close(): Promise<void>;
}

export async function startAlicloudEmulator(opts: AlicloudEmulatorOptions = {}): Promise<AlicloudEmulator> {
  const now = opts.now ?? Date.now;
  const world = new World(opts.settings);
  const flow = new FlowControl(opts.rateLimits);
  const state: State = {
    world,
    flow,
    faults: new Faults(),
    calls: [],
    clientTokens: new Map<string, { routeEntryId: string; at: number }>(),
    nonces: new Map<string, number>(),
    inflight: new Map<string, number>(),
    now,
    accessKeys: opts.accessKeys === null
      ? undefined
      : new Map(Object.entries(opts.accessKeys ?? { [EMULATOR_ACCESS_KEY.id]: EMULATOR_ACCESS_KEY.secret })),
    throttleStatus: opts.throttleStatus ?? 400,
    maxSkewMs: opts.maxSkewMs ?? 15 * 60_000,
  };
  const admin = new AlicloudAdmin({ ...state, initialSettings: { ...world.settings } });
  const server = createServer((req, res) => {
    handle(state, admin, req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(err));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', resolve);
  });
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    port,
    admin,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

interface State {
  readonly world: World;
  readonly flow: FlowControl;
  readonly faults: Faults;
  readonly calls: CallRecord[];
  readonly clientTokens: Map<string, { routeEntryId: string; at: number }>;
  readonly nonces: Map<string, number>;
  readonly inflight: Map<string, number>;
  readonly now: () => number;
  readonly accessKeys: ReadonlyMap<string, string> | undefined;
  readonly throttleStatus: number;
  readonly maxSkewMs: number;
}

async function handle(s: State, admin: AlicloudAdmin, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://emulator');
  const body = await readBody(req);
  if (url.pathname.startsWith('/_admin/')) {
    const [status, answer] = runAdmin(admin, url.pathname.slice('/_admin/'.length), body.toString('utf8'));
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    return;
  }
  const query = Object.fromEntries(url.searchParams);
  const params: Params = { ...formParams(req, body), ...query };
  const action = headerOf(req, 'x-acs-action') ?? params.Action ?? '';
  const signedHeaders = /SignedHeaders=([^,]*)/.exec(headerOf(req, 'authorization') ?? '')?.[1]?.split(';') ?? [];
  const record: CallRecord = {
    seq: s.calls.length + 1, action, method: req.method ?? '', signedHeaders, params, code: 'OK', status: 200, at: s.now(), end: s.now(),
  };
  s.calls.push(record);
  const fault = s.faults.take(action);
  if (fault === 'drop') return drop(record, req, s.now());
  const scope = WRITE_ACTIONS.has(action) ? conflictScope(s.world, params) : undefined;
  const overlapped = scope !== undefined && (s.inflight.get(scope) ?? 0) > 0;
  if (scope !== undefined) s.inflight.set(scope, (s.inflight.get(scope) ?? 0) + 1);
  const requestId = newRequestId();
  try {
    if (s.faults.latencyMs > 0) await sleep(s.faults.latencyMs);
    const answer = answerFor(s, { req, url, query, params, body, action, requestId, fault, overlapped });
    if (fault === 'dropAfter') return drop(record, req, s.now());
    send(res, 200, requestId, answer);
  } catch (err) {
    // A bug in the emulator must not pass for a cloud fault that retries hide: say so.
    if (!(err instanceof ApiError)) console.error('alicloud emulator: unexpected error', err);
    const apiErr = err instanceof ApiError ? err : apiErrors.internal();
    record.code = apiErr.code;
    record.status = apiErr.status;
    send(res, apiErr.status, requestId, {
      RequestId: requestId,
      HostId: (req.headers.host ?? 'vpc.aliyuncs.com').replace(/:\d+$/, ''),
      Code: apiErr.code,
      Message: apiErr.message,
      Recommend: `https://api.aliyun.com/troubleshoot?q=${encodeURIComponent(apiErr.code)}&product=Vpc&requestId=${requestId}`,
    });
  } finally {
    if (scope !== undefined) s.inflight.set(scope, (s.inflight.get(scope) ?? 1) - 1);
    record.end = s.now();
  }
}

interface Incoming {
  readonly req: IncomingMessage;
  readonly url: URL;
  readonly query: Record<string, string>;
  readonly params: Params;
  readonly body: Buffer;
  readonly action: string;
  readonly requestId: string;
  readonly fault: FaultKind | undefined;
  readonly overlapped: boolean;
}

/** The gateway's checks in order: shape, signature, version, action, flow control; then the handler. */
function answerFor(s: State, r: Incoming): Record<string, unknown> {
  if (r.req.method !== 'POST' && r.req.method !== 'GET') throw apiErrors.invalidAction();
  if (!r.action) throw apiErrors.missingParameter('Action');
  const version = headerOf(r.req, 'x-acs-version') ?? r.params.Version;
  if (!version) throw apiErrors.missingParameter('Version');
  verifySignature(
    { method: r.req.method, pathname: r.url.pathname, query: r.query, headers: r.req.headers, body: r.body },
    { accessKeys: s.accessKeys, maxSkewMs: s.maxSkewMs, now: Date.now(), nonces: s.nonces },
  );
  if (version !== VPC_VERSION) throw apiErrors.invalidVersion();
  const handler = HANDLERS[r.action];
  if (!handler) throw apiErrors.invalidAction();
  const now = s.now();
  const region = r.params.RegionId ?? s.world.settings.regionId;
  if (!s.flow.admit(r.action, region, now) || r.fault === 'throttle') throw apiErrors.throttled(s.throttleStatus);
  if (r.fault === 'internal') throw apiErrors.internal();
  if (r.fault === 'unavailable') throw apiErrors.unavailable();
  if (r.overlapped) throw apiErrors.taskConflict();
  s.world.settle(now);
  // Resources live in one region; any other region is empty.
  const world = region === s.world.settings.regionId ? s.world : new World({ ...s.world.settings, regionId: region });
  return handler({ world, params: r.params, now, requestId: r.requestId, clientTokens: s.clientTokens });
}

/** The key two writes must not share at once (TaskConflict): the VPC or the table they touch. */
function conflictScope(world: World, params: Params): string | undefined {
  const entryId = params.RouteEntryId ?? params['RouteEntries.1.RouteEntryId'];
  const tableId = params.RouteTableId ?? params['RouteEntries.1.RouteTableId'] ?? (entryId ? world.findEntry(entryId)?.tableId : undefined);
  const table = tableId === undefined ? undefined : world.tables.get(tableId);
  if (!table) return undefined;
  return world.settings.conflictScope === 'vpc' ? table.vpcId : table.id;
}

function send(res: ServerResponse, status: number, requestId: string, body: Record<string, unknown>): void {
  res.writeHead(status, { 'content-type': 'application/json;charset=utf-8', 'x-acs-request-id': requestId });
  res.end(JSON.stringify(body));
}

function drop(record: CallRecord, req: IncomingMessage, now: number): void {
  record.code = 'DROPPED';
  record.status = 0;
  record.end = now;
  req.socket.destroy();
}

function formParams(req: IncomingMessage, body: Buffer): Record<string, string> {
  const type = req.headers['content-type'] ?? '';
  return type.includes('application/x-www-form-urlencoded') ? Object.fromEntries(new URLSearchParams(body.toString('utf8'))) : {};
}

function headerOf(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 1 << 20) throw new Error('request body over 1 MiB');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
