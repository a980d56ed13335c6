// The only file that imports @google-cloud/compute. It speaks REST (`fallback`),
// turns the SDK's messages into the plain records of wire.ts and its errors into
// typed ones, and leaves retries to the provider: every call is made with the
// SDK's own retry switched off, so each attempt is counted and rate-limited once.
import { GlobalOperationsClient, InstancesClient, NetworksClient, ProjectsClient, RoutesClient, type protos } from '@google-cloud/compute';
import { OAuth2Client } from 'google-auth-library';
import { type GceInstance, type GceOperation, type GcePage, type GceRoute, type GceRouteInput, GceApiError, GceThrottledError, GceTransientError } from './wire.ts';

type IOperation = protos.google.cloud.compute.v1.IOperation;
type IRoute = protos.google.cloud.compute.v1.IRoute;

export interface GceApi {
  insertRoute(route: GceRouteInput, requestId: string, signal: AbortSignal): Promise<GceOperation>;
  getRoute(name: string, signal: AbortSignal): Promise<GceRoute>;
  deleteRoute(name: string, requestId: string, signal: AbortSignal): Promise<GceOperation>;
  listRoutes(query: { filter?: string; maxResults: number; pageToken?: string | undefined }, signal: AbortSignal): Promise<GcePage<GceRoute>>;
  /** globalOperations.wait: answers at DONE or at the server's deadline (2 minutes), whichever is first. */
  waitOperation(name: string, signal: AbortSignal): Promise<GceOperation>;
  getNetwork(name: string, signal: AbortSignal): Promise<{ name: string; selfLink: string }>;
  /** The project's ROUTES quota (limit and usage), when the project reports one. */
  getRouteQuota(signal: AbortSignal): Promise<{ limit: number; usage: number } | undefined>;
  /** instances.aggregatedList over every zone (the SDK pages through the result). */
  listInstances(filter: string | undefined, signal: AbortSignal): Promise<GceInstance[]>;
  close(): Promise<void>;
}

export interface GceApiOptions {
  readonly project: string;
  /** e.g. http://127.0.0.1:8080; default: compute.googleapis.com with application default credentials. */
  readonly endpoint?: string | undefined;
  /** A static OAuth access token instead of application default credentials. */
  readonly accessToken?: string | undefined;
  readonly requestTimeoutMs: number;
  /** globalOperations.wait blocks for up to 2 minutes on the server; give it that and a margin. */
  readonly waitTimeoutMs: number;
}

export function createGceApi(opts: GceApiOptions): GceApi {
  const common = clientOptions(opts);
  // Each client costs a hash of the whole compute proto set when built: build only those used.
  const made: { close(): Promise<void> }[] = [];
  const lazy = <T extends { close(): Promise<void> }>(make: () => T): (() => T) => {
    let client: T | undefined;
    return () => client ?? (made.push((client = make())), client);
  };
  const routes = lazy(() => new RoutesClient(common));
  const operations = lazy(() => new GlobalOperationsClient(common));
  const instances = lazy(() => new InstancesClient(common));
  const networks = lazy(() => new NetworksClient(common));
  const projects = lazy(() => new ProjectsClient(common));
  const project = opts.project;
  const call = (signal: AbortSignal, timeout = opts.requestTimeoutMs) => ({ retry: null, signal, timeout, autoPaginate: false });
  const guard = <T>(signal: AbortSignal, p: Promise<T>): Promise<T> => p.catch((err: unknown) => { throw translate(err, signal); });

  return {
    insertRoute: (route, requestId, signal) => guard(signal, viaCallback<IOperation>((cb) =>
      routes().insert({ project, requestId, routeResource: route }, call(signal), cb))).then(toOperation),
    getRoute: (name, signal) => guard(signal, routes().get({ project, route: name }, call(signal))).then(([r]) => toRoute(r)),
    deleteRoute: (name, requestId, signal) => guard(signal, viaCallback<IOperation>((cb) =>
      routes().delete({ project, route: name, requestId }, call(signal), cb))).then(toOperation),
    listRoutes: async (q, signal) => {
      const [items, , raw] = await guard(signal, routes().list({ project, ...q }, call(signal)));
      return { items: items.map(toRoute), nextPageToken: raw?.nextPageToken || undefined };
    },
    waitOperation: (name, signal) =>
      guard(signal, operations().wait({ project, operation: name }, call(signal, opts.waitTimeoutMs))).then(([op]) => toOperation(op)),
    getNetwork: async (name, signal) => {
      const [net] = await guard(signal, networks().get({ project, network: name }, call(signal)));
      return { name: net.name ?? name, selfLink: net.selfLink ?? '' };
    },
    getRouteQuota: async (signal) => {
      const [p] = await guard(signal, projects().get({ project }, call(signal)));
      const routes = p.quotas?.find((q) => q.metric === 'ROUTES');
      return typeof routes?.limit === 'number' ? { limit: routes.limit, usage: routes.usage ?? 0 } : undefined;
    },
    listInstances: (filter, signal) => guard(signal, collectInstances(instances(), project, filter, call(signal))),
    close: async () => {
      await Promise.all(made.map((c) => c.close()));
    },
  };
}

function clientOptions(opts: GceApiOptions): ConstructorParameters<typeof RoutesClient>[0] {
  const base = { projectId: opts.project, fallback: true as const };
  const authClient = opts.accessToken === undefined ? undefined : staticTokenClient(opts.accessToken);
  if (opts.endpoint === undefined) return authClient ? { ...base, authClient } : base;
  const url = new URL(opts.endpoint);
  const protocol = url.protocol.replace(':', '');
  const port = url.port === '' ? (protocol === 'http' ? 80 : 443) : Number(url.port);
  return { ...base, apiEndpoint: url.hostname, port, protocol, ...(authClient ? { authClient } : {}) };
}

/** An OAuth2 client that only ever presents the given token (no refresh): what the SDK sends as `Authorization: Bearer`. */
function staticTokenClient(token: string): OAuth2Client {
  const client = new OAuth2Client();
  client.setCredentials({ access_token: token });
  return client;
}

/** The callback form of insert/delete hands back the compute Operation itself, typed, rather than an LRO wrapper. */
function viaCallback<T>(start: (cb: (err: Error | null | undefined, value?: T | null) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    start((err, value) => (err ? reject(err) : resolve(value ?? ({} as T))));
  });
}

async function collectInstances(
  client: InstancesClient, project: string, filter: string | undefined, options: object,
): Promise<GceInstance[]> {
  const out: GceInstance[] = [];
  for await (const [scope, list] of client.aggregatedListAsync({ project, maxResults: 500, ...(filter ? { filter } : {}) }, options)) {
    const zoneFromScope = scope.replace(/^zones\//, '');
    for (const i of list.instances ?? []) {
      out.push({
        zone: i.zone ? i.zone.slice(i.zone.lastIndexOf('/') + 1) : zoneFromScope,
        name: i.name ?? '',
        status: i.status ?? '',
        canIpForward: i.canIpForward === true,
        nics: (i.networkInterfaces ?? []).map((n) => ({ network: n.network ?? '', networkIP: n.networkIP ?? '' })),
      });
    }
  }
  return out;
}

function toRoute(r: IRoute): GceRoute {
  return {
    name: r.name ?? '',
    description: r.description ?? undefined,
    network: r.network ?? '',
    destRange: r.destRange ?? '',
    priority: r.priority ?? undefined,
    nextHopInstance: r.nextHopInstance || undefined,
    nextHopIp: r.nextHopIp || undefined,
    nextHopGateway: r.nextHopGateway || undefined,
    warnings: (r.warnings ?? []).map((w) => ({ code: String(w.code ?? ''), message: w.message ?? '' })),
  };
}

function toOperation(op: IOperation): GceOperation {
  return {
    name: op.name ?? '',
    status: String(op.status ?? ''),
    errors: (op.error?.errors ?? []).map((e) => ({ code: e.code ?? '', message: e.message ?? '' })),
    httpErrorStatusCode: op.httpErrorStatusCode ?? undefined,
    httpErrorMessage: op.httpErrorMessage ?? undefined,
  };
}

const RAW_PAYLOAD = Symbol.for('google-gax.rawHttpResponsePayload');
const GRPC_UNAVAILABLE = 14;
const GRPC_DEADLINE_EXCEEDED = 4;

/**
 * SDK error → typed error. The SDK keeps the HTTP status but drops the compute
 * error `reason` (rateLimitExceeded vs forbidden, alreadyExists vs other 409s);
 * it does keep the raw body under a registered symbol, which is read here.
 */
function translate(err: unknown, signal: AbortSignal): Error {
  if (signal.aborted) return signal.reason instanceof Error ? signal.reason : new Error('aborted', { cause: signal.reason });
  if (!(err instanceof Error)) return new Error(String(err));
  const e = err as Error & { code?: unknown; httpStatusCode?: unknown; [RAW_PAYLOAD]?: unknown };
  const body = parsePayload(e[RAW_PAYLOAD]);
  const status = typeof e.httpStatusCode === 'number' ? e.httpStatusCode : body?.code;
  const reason = body?.errors?.[0]?.reason;
  const message = body?.message ?? err.message;
  if (status === 429 || (status === 403 && (reason === 'rateLimitExceeded' || reason === 'userRateLimitExceeded'))) {
    return new GceThrottledError(`compute API throttled: ${message}`, { cause: err });
  }
  if (status === undefined) {
    if (e.code === GRPC_UNAVAILABLE) return new GceTransientError('network', `compute API unreachable: ${err.message}`, { cause: err });
    if (e.code === GRPC_DEADLINE_EXCEEDED) return new GceTransientError('timeout', `compute API unreachable: ${err.message}`, { cause: err });
    return err;
  }
  if (status >= 500 || (status === 400 && reason === 'resourceNotReady')) {
    return new GceTransientError(status >= 500 ? 'server_error' : 'busy', `compute API ${status}: ${message}`, { cause: err });
  }
  return new GceApiError(status, reason, `compute API ${status}${reason ? ` ${reason}` : ''}: ${message}`, { cause: err });
}

interface ErrorPayload { code?: number; message?: string; errors?: { reason?: string }[] }

function parsePayload(raw: unknown): ErrorPayload | undefined {
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw) as unknown;
    } catch {
      return undefined;
    }
  }
  if (value === null || typeof value !== 'object') return undefined;
  const error = (value as { error?: unknown }).error;
  return error !== null && typeof error === 'object' ? error : undefined;
}
