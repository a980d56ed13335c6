// An EC2 Query API server on 127.0.0.1 that the real AWS SDK talks to unchanged:
// SigV4 headers checked, per-account throttling, EC2's XML, injectable faults.
import { randomUUID } from 'node:crypto';
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Clock, realClock } from '../../../src/util/time.ts';
import { type CallRecord, type EmulatorAdmin, createAdmin } from './admin.ts';
import { describeInstances, describeRouteTables, isFilteredOrPaged } from './describe.ts';
import { Ec2Fault, errorDocument, fault } from './faults.ts';
import { AccountLimiter, type ActionClass, DOCUMENTED_LIMITS, FaultPlan, MUTATING_ACTIONS, type RateLimits } from './limits.ts';
import { Ec2Model } from './model.ts';
import type { Params } from './query.ts';
import { type XmlNode, el, responseDocument } from './xml.ts';

export interface AwsEmulatorOptions {
  /** 0 (default) picks a free port. */
  readonly port?: number;
  readonly clock?: Clock;
  readonly random?: () => number;
  /** Routes per table and family for tables seeded without a quota (default 50). */
  readonly routeQuota?: number;
  readonly quotaCountsLocal?: boolean;
  /** Throttling; the documented EC2 buckets by default. `{ enabled: false }` turns it off. */
  readonly limits?: Partial<RateLimits>;
  readonly pageSizeCap?: number;
  /**
   * Awaited after a mutating action (CreateRoute, DeleteRoute, ReplaceRoute,
   * ModifyInstanceAttribute) took effect and before its answer is sent: what a lab
   * uses to make its emulated VPC router carry a route by the time the client hears
   * it exists. A rejection answers InternalError (the action has still happened).
   */
  readonly onMutation?: ((action: string) => Promise<void>) | undefined;
}

export interface AwsEmulator {
  /** `http://127.0.0.1:<port>`, for the SDK's `endpoint` option. */
  readonly endpoint: string;
  readonly port: number;
  readonly admin: EmulatorAdmin;
  close(): Promise<void>;
}

type Handler = (model: Ec2Model, params: Params, pageCap: number) => XmlNode[];
const ACTIONS: Readonly<Record<string, Handler>> = {
  DescribeRouteTables: describeRouteTables,
  DescribeInstances: describeInstances,
  CreateRoute: (m, p) => (m.createRoute(p), [el('return', true)!]),
  ReplaceRoute: (m, p) => (m.replaceRoute(p), [el('return', true)!]),
  DeleteRoute: (m, p) => (m.deleteRoute(p), [el('return', true)!]),
  ModifyInstanceAttribute: (m, p) => (m.modifyInstanceAttribute(p), [el('return', true)!]),
  ModifyNetworkInterfaceAttribute: (m, p) => (m.modifyNetworkInterfaceAttribute(p), [el('return', true)!]),
};

export async function startAwsEmulator(opts: AwsEmulatorOptions = {}): Promise<AwsEmulator> {
  const clock = opts.clock ?? realClock;
  const random = opts.random ?? Math.random;
  const newModel = (): Ec2Model => new Ec2Model({ routeQuota: opts.routeQuota ?? 50, quotaCountsLocal: opts.quotaCountsLocal ?? false });
  const startLimits = { ...DOCUMENTED_LIMITS, ...opts.limits };
  const state = { model: newModel(), pageCap: opts.pageSizeCap ?? Infinity };
  const limiter = new AccountLimiter(startLimits, clock);
  const faults = new FaultPlan();
  const log: CallRecord[] = [];
  const admin = createAdmin({
    model: () => state.model, limiter, faults, log,
    setPageCap: (n) => { state.pageCap = n; },
    reset: () => {
      state.model = newModel();
      state.pageCap = opts.pageSizeCap ?? Infinity;
      limiter.set(startLimits);
      faults.clear();
      log.length = 0;
    },
  });

  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const arrived = clock.now();
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname.startsWith('/_admin/')) return serveAdmin(admin, url.pathname.slice(8), body, res);
    const params = new Map([...url.searchParams, ...new URLSearchParams(body)]);
    const record = { time: arrived, action: params.get('Action') ?? '', params: Object.fromEntries(params), accessKeyId: undefined as string | undefined };
    const requestId = randomUUID();
    const finish = (status: number, code: string): void => void log.push({ ...record, status, code });
    const drop = (): void => {
      req.socket.destroy();
      finish(0, 'dropped');
    };
    try {
      record.accessKeyId = accessKeyOf(req);
      const handler = actionOf(params);
      const injected = faults.take(record.action);
      if (faults.standing.latencyMs > 0) await clock.sleep(faults.standing.latencyMs);
      if (injected === 'drop') return drop();
      throwInjected(injected, faults.standing.serverErrorRate, random);
      if (!limiter.tryTake(record.accessKeyId, classOf(record.action, params))) throw fault.throttled();
      const answer = responseDocument(record.action, requestId, handler(state.model, params, state.pageCap));
      if (opts.onMutation && MUTATING_ACTIONS.has(record.action)) await opts.onMutation(record.action);
      if (injected === 'dropAfter') return drop(); // the action took effect; the client never hears
      send(res, 200, answer, requestId);
      finish(200, 'ok');
    } catch (err) {
      const f = err instanceof Ec2Fault ? err : new Ec2Fault('InternalError', `emulator: ${String(err)}`, 500);
      send(res, f.status, errorDocument(f, requestId), requestId);
      finish(f.status, f.code);
    }
  };

  const server = createServer((req, res) => {
    serve(req, res).catch((err: unknown) => {
      res.destroy(err instanceof Error ? err : new Error(String(err)));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    admin,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function actionOf(params: Params): Handler {
  const action = params.get('Action');
  if (action === undefined) throw fault.missing('Action');
  if (params.get('Version') === undefined) throw fault.missing('Version');
  const handler = ACTIONS[action];
  if (!handler) throw fault.invalidAction(action);
  return handler;
}

function classOf(action: string, params: Params): ActionClass {
  if (MUTATING_ACTIONS.has(action)) return 'mutating';
  return isFilteredOrPaged(params) ? 'describe' : 'unfilteredDescribe';
}

function throwInjected(kind: string | undefined, rate: number, random: () => number): void {
  if (kind === 'throttle') throw fault.throttled();
  if (kind === 'internal') throw fault.internal();
  if (kind === 'unavailable') throw fault.unavailable();
  if (rate > 0 && random() < rate) throw random() < 0.5 ? fault.internal() : fault.unavailable();
}

/**
 * SigV4 as the SDK sends it: `Authorization: AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/ec2/aws4_request,
 * SignedHeaders=…, Signature=<64 hex>` plus `x-amz-date`. The signature itself is not recomputed.
 */
function accessKeyOf(req: IncomingMessage): string {
  const auth = req.headers.authorization;
  if (auth === undefined) throw fault.authFailure('the request is not signed');
  const m = /^AWS4-HMAC-SHA256 Credential=([^/\s]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) throw fault.authFailure('malformed Authorization header');
  if (m[4] !== 'ec2') throw fault.authFailure(`credential should be scoped to correct service: 'ec2', not '${m[4]}'`);
  const date = req.headers['x-amz-date'];
  if (typeof date !== 'string' || !/^\d{8}T\d{6}Z$/.test(date)) throw fault.authFailure('missing or malformed x-amz-date');
  if (!date.startsWith(m[2]!)) throw fault.authFailure('credential date does not match x-amz-date');
  if (!m[5]!.split(';').includes('host')) throw fault.authFailure('host is not a signed header');
  return m[1]!;
}

function send(res: ServerResponse, status: number, body: string, requestId: string): void {
  res.writeHead(status, { 'content-type': 'text/xml;charset=UTF-8', 'x-amzn-requestid': requestId, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

async function serveAdmin(admin: EmulatorAdmin, method: string, body: string, res: ServerResponse): Promise<void> {
  const fn = (admin as unknown as Record<string, ((arg: unknown) => Promise<unknown>) | undefined>)[method];
  try {
    if (!fn || !Object.hasOwn(admin, method)) throw new Error(`no admin method ${method}`);
    const result = await fn(body === '' ? {} : JSON.parse(body));
    const text = result === undefined ? '' : JSON.stringify(result);
    res.writeHead(200, { 'content-type': 'application/json' }).end(text);
  } catch (err) {
    res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: err instanceof Error ? err.message : String(err) }));
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
