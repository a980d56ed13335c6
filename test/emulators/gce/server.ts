// The HTTP front: bearer-token check, injected faults, per-project rate quotas,
// the call log, then the compute endpoint. Binds 127.0.0.1 only.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { type Clock, realClock } from '../../../src/util/time.ts';
import { type CallRecord, createAdmin, type GceAdmin, handleAdmin } from './admin.ts';
import { type ComputeSettings, type Endpoint, resolveEndpoint } from './compute.ts';
import { DOCUMENTED_RATE_LIMITS, Faults, type RateLimitConfig, RateWindows, rateLimitExceeded, serverError } from './limits.ts';
import { ApiError, encodeBody, errorBody } from './resources.ts';
import { type OperationTiming, World } from './world.ts';

export interface GceEmulatorOptions {
  /** 0 (default): any free port. */
  readonly port?: number;
  /** The project seeded at start and the admin API's default (default `tartan-test`). */
  readonly project?: string;
  /** Networks seeded at start, each with its default internet route (default `['tartan-net']`). */
  readonly networks?: readonly string[];
  /** The only bearer token accepted; undefined accepts any non-empty one. */
  readonly token?: string;
  readonly clock?: Clock;
  /** Time spent PENDING and RUNNING (default 1 s and 4 s). */
  readonly operationTiming?: Partial<OperationTiming>;
  /** globalOperations.wait deadline (default 2 minutes, as GCE). */
  readonly waitDeadlineMs?: number;
  /** Routes per network (default 250). */
  readonly routeQuota?: number;
  /** Per-project per-minute limits (default: documented 1,500/1,500); false disables them. */
  readonly rateLimits?: Partial<RateLimitConfig> | false;
  readonly pageSizeCap?: number;
}

export interface GceEmulator {
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly project: string;
  readonly admin: GceAdmin;
  close(): Promise<void>;
}

const DEFAULT_TIMING: OperationTiming = { pendingMs: 1000, runningMs: 4000 };

export async function startGceEmulator(opts: GceEmulatorOptions = {}): Promise<GceEmulator> {
  const clock = opts.clock ?? realClock;
  const project = opts.project ?? 'tartan-test';
  const initialRates: RateLimitConfig = opts.rateLimits === false
    ? { ...DOCUMENTED_RATE_LIMITS, enabled: false }
    : { ...DOCUMENTED_RATE_LIMITS, ...opts.rateLimits };
  const initialSettings = (): ComputeSettings => ({ pageSizeCap: opts.pageSizeCap, waitDeadlineMs: opts.waitDeadlineMs ?? 120_000 });
  const world = new World({ clock, timing: { ...DEFAULT_TIMING, ...opts.operationTiming }, routeQuota: opts.routeQuota ?? 250 });
  const settings = initialSettings();
  const rates = new RateWindows(initialRates, clock);
  const faults = new Faults();
  const calls: CallRecord[] = [];
  const seed = (): void => {
    world.project(project, true);
    for (const n of opts.networks ?? ['tartan-net']) world.addNetwork(project, n);
  };
  const reset = (): void => {
    world.projects.clear();
    world.nextOperationFailures.length = 0;
    world.opts.timing = { ...DEFAULT_TIMING, ...opts.operationTiming };
    world.opts.routeQuota = opts.routeQuota ?? 250;
    Object.assign(settings, initialSettings());
    rates.config = initialRates;
    rates.reset();
    faults.reset();
    calls.length = 0;
    seed();
  };
  seed();
  const admin = createAdmin({ project, world, settings, rates, faults, calls, reset });
  const shutdown = new AbortController();
  const front = { world, settings, rates, faults, calls, clock, token: opts.token, admin, shutdown: shutdown.signal };
  const server = createServer((req, res) => void serve(front, req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = address !== null && typeof address === 'object' ? address.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`, host: '127.0.0.1', port, project, admin,
    close: async () => {
      shutdown.abort(new Error('emulator closing'));
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

interface Front {
  readonly world: World;
  readonly settings: ComputeSettings;
  readonly rates: RateWindows;
  readonly faults: Faults;
  readonly calls: CallRecord[];
  readonly clock: Clock;
  readonly token: string | undefined;
  readonly admin: GceAdmin;
  readonly shutdown: AbortSignal;
}

async function serve(f: Front, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const raw = await readBody(req);
  if (url.pathname.startsWith('/_admin/')) return serveAdmin(f, req, res, url, raw);
  const at = f.clock.now();
  const pretty = !['false', '0'].includes(url.searchParams.get('prettyPrint') ?? url.searchParams.get('$prettyPrint') ?? '');
  let status = 0;
  let endpoint: Endpoint | undefined;
  const call = new AbortController();
  res.on('close', () => { if (!res.writableEnded) call.abort(new Error('client went away')); });
  const signal = AbortSignal.any([call.signal, f.shutdown]);
  try {
    checkAuth(req.headers.authorization, f.token);
    endpoint = resolveEndpoint(req.method ?? 'GET', url.pathname, {
      world: f.world, settings: f.settings, clock: f.clock, query: url.searchParams, body: () => parseJson(raw), signal,
    });
    if (!endpoint) throw new ApiError(404, 'notFound', `The requested URL ${url.pathname} was not found on this server.`);
    if (f.faults.latencyMs > 0) await f.clock.sleep(f.faults.latencyMs, signal);
    const fault = f.faults.next();
    if (fault === 'drop') {
      req.socket.destroy();
      return;
    }
    if (fault === 'throttle') throw rateLimitExceeded(endpoint.project, endpoint.kind);
    if (fault === 'error500' || fault === 'error503') throw serverError(fault === 'error500' ? 500 : 503);
    f.rates.admit(endpoint.project, endpoint.kind);
    const body = await endpoint.run();
    status = 200;
    send(res, 200, body, pretty);
  } catch (err) {
    if (signal.aborted) {
      req.socket.destroy();
      return;
    }
    const apiErr = err instanceof ApiError ? err : new ApiError(500, 'backendError', `Internal error: ${String(err)}`);
    status = apiErr.status;
    send(res, apiErr.status, errorBody(apiErr), pretty);
  } finally {
    f.calls.push({ method: req.method ?? 'GET', path: req.url ?? '/', id: endpoint?.id, status, at, durationMs: f.clock.now() - at });
  }
}

function serveAdmin(f: Front, req: IncomingMessage, res: ServerResponse, url: URL, raw: string): void {
  try {
    send(res, 200, handleAdmin(f.admin, req.method ?? 'GET', url, raw === '' ? undefined : parseJson(raw)), true);
  } catch (err) {
    send(res, err instanceof ApiError ? err.status : 400, { error: err instanceof Error ? err.message : String(err) }, true);
  }
}

function checkAuth(header: string | undefined, token: string | undefined): void {
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  if (!m) {
    throw new ApiError(401, 'required', 'Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential.');
  }
  if (token !== undefined && m[1] !== token) {
    throw new ApiError(401, 'authError', 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.');
  }
}

function parseJson(raw: string): unknown {
  if (raw.trim() === '') return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    throw new ApiError(400, 'parseError', 'Invalid JSON payload received.');
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, status: number, body: unknown, pretty: boolean): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
  res.end(encodeBody(body, pretty));
}
