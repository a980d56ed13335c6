// createGceProvider options: validated once, defaults filled in, frozen.
import { InvalidInputError } from '../../src/errors.ts';
import { type Cidr, parseCidr } from '../../src/net/cidr.ts';
import { type Logger, silentLogger } from '../../src/observe/log.ts';
import { type Clock, realClock } from '../../src/util/time.ts';
import { type ProviderStart, requiredFlag } from '../shared/settings.ts';
import { GCE_NAME } from './names.ts';

export interface GceRateLimits {
  /** The project's read quota per window (reference/cloud-apis.md: order of 1,500 per minute). */
  readonly readsPerMinute?: number;
  /** The project's mutation quota per window (order of 1,500 per minute). */
  readonly writesPerMinute?: number;
  /** GCE refills rate quotas every minute, on the minute. */
  readonly windowMs?: number;
  /** Share of each quota this provider allows itself, leaving room for other clients (default 0.9). */
  readonly budget?: number;
}

export interface GceProviderOptions {
  readonly project: string;
  /** The VPC network (name) whose routes tartan manages: the one "route table". */
  readonly network: string;
  /** Names routes `tartan-<clusterName>-…` and marks them `tartan:<clusterName>`. */
  readonly clusterName: string;
  /** The cluster Network(s), e.g. ['10.244.0.0/16', 'fd00:10:244::/56']. */
  readonly clusterNetworks: readonly string[];
  /** Another compute endpoint, e.g. an emulator at http://127.0.0.1:8080. */
  readonly endpoint?: string;
  /** A static OAuth access token; with an endpoint override, GOOGLE_OAUTH_ACCESS_TOKEN is read when this is unset. */
  readonly accessToken?: string;
  /** Routes the network may hold; default: the project's ROUTES quota, else 250. */
  readonly routeQuota?: number;
  /** routes.list page size (≤ 500). */
  readonly pageSize?: number;
  readonly rateLimits?: GceRateLimits;
  readonly retry?: { readonly attempts?: number; readonly baseMs?: number; readonly maxMs?: number };
  /** Least time between two polls of one operation (≥ 200 ms: at most 5 polls per second). */
  readonly operationPollIntervalMs?: number;
  /** Give up on an operation that is not DONE after this long (default 10 minutes). */
  readonly operationTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Where GOOGLE_OAUTH_ACCESS_TOKEN is read from (default process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export interface ResolvedGceOptions {
  readonly project: string;
  readonly network: string;
  readonly clusterName: string;
  readonly clusterNetworks: readonly Cidr[];
  readonly endpoint: string | undefined;
  readonly accessToken: string | undefined;
  readonly routeQuota: number | undefined;
  readonly pageSize: number;
  readonly readBucket: { readonly capacity: number; readonly refillPerSecond: number };
  readonly writeBucket: { readonly capacity: number; readonly refillPerSecond: number };
  readonly windowMs: number;
  readonly retry: { readonly attempts: number; readonly baseMs: number; readonly maxMs: number };
  readonly operationPollIntervalMs: number;
  readonly operationTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
}

export const DEFAULT_ROUTE_QUOTA = 250;
const MIN_POLL_INTERVAL_MS = 200;

export function resolveOptions(o: GceProviderOptions): ResolvedGceOptions {
  if (typeof o.project !== 'string' || !/^[a-z][-a-z0-9.:]{4,62}[a-z0-9]$/.test(o.project)) {
    throw new InvalidInputError('project', o.project, 'not a GCE project id');
  }
  if (typeof o.network !== 'string' || !GCE_NAME.test(o.network)) throw new InvalidInputError('network', o.network, 'not a GCE network name');
  if (!o.clusterNetworks || o.clusterNetworks.length === 0) {
    throw new InvalidInputError('clusterNetworks', o.clusterNetworks, 'at least one cluster Network is required');
  }
  const accessToken = o.accessToken ?? (o.endpoint !== undefined ? (o.env ?? process.env).GOOGLE_OAUTH_ACCESS_TOKEN : undefined);
  checkEndpoint(o.endpoint, accessToken);
  const limits = o.rateLimits ?? {};
  const windowMs = positive('rateLimits.windowMs', limits.windowMs ?? 60_000);
  const budget = limits.budget ?? 0.9;
  if (!(budget > 0 && budget <= 1)) throw new InvalidInputError('rateLimits.budget', budget, 'must be in (0, 1]');
  const pageSize = o.pageSize ?? 500;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 500) throw new InvalidInputError('pageSize', pageSize, 'must be 1..500');
  return Object.freeze({
    project: o.project,
    network: o.network,
    clusterName: o.clusterName,
    clusterNetworks: Object.freeze(o.clusterNetworks.map((n, i) => parseCidr(n, `clusterNetworks[${i}]`))),
    endpoint: o.endpoint,
    accessToken: accessToken === '' ? undefined : accessToken,
    routeQuota: o.routeQuota === undefined ? undefined : positive('routeQuota', o.routeQuota),
    pageSize,
    readBucket: bucketFor(positive('rateLimits.readsPerMinute', limits.readsPerMinute ?? 1500), budget, windowMs),
    writeBucket: bucketFor(positive('rateLimits.writesPerMinute', limits.writesPerMinute ?? 1500), budget, windowMs),
    windowMs,
    retry: { attempts: o.retry?.attempts ?? 8, baseMs: o.retry?.baseMs ?? 200, maxMs: o.retry?.maxMs ?? 10_000 },
    operationPollIntervalMs: Math.max(MIN_POLL_INTERVAL_MS, o.operationPollIntervalMs ?? MIN_POLL_INTERVAL_MS),
    operationTimeoutMs: positive('operationTimeoutMs', o.operationTimeoutMs ?? 600_000),
    requestTimeoutMs: positive('requestTimeoutMs', o.requestTimeoutMs ?? 60_000),
    clock: o.clock ?? realClock,
    logger: o.logger ?? silentLogger(),
  });
}

/** The options `tartan controller` / `tartan audit` start the provider with; errors name the flag. */
export function optionsFromFlags(s: ProviderStart): GceProviderOptions {
  const endpoint = s.flags['cloud-endpoint'];
  const quota = s.flags['route-quota'];
  return {
    project: requiredFlag(s, 'project'), network: requiredFlag(s, 'network'), clusterName: s.flags['cluster-name'],
    clusterNetworks: s.clusterNetworks, env: s.env, logger: s.logger, ...(endpoint ? { endpoint } : {}), ...(quota ? { routeQuota: quota } : {}),
    ...(s.flags['cloud-timeout'] ? { requestTimeoutMs: s.flags['cloud-timeout'] } : {}),
  };
}

/**
 * A token bucket that can never exceed `budget × limit` calls in any window of
 * `windowMs`, wherever the server's window boundaries fall: burst C plus refill
 * over one window, C + r·W = budget × limit. The burst is kept small (about a
 * second's worth), so the bucket runs near the sustained rate rather than
 * spending a window's quota at once and then stalling.
 */
export function bucketFor(limit: number, budget: number, windowMs: number): { capacity: number; refillPerSecond: number } {
  const allowed = Math.floor(limit * budget);
  const capacity = Math.max(1, Math.floor(allowed / 60));
  const refillPerSecond = Math.max(allowed - capacity, 1) / (windowMs / 1000);
  return { capacity, refillPerSecond };
}

function checkEndpoint(endpoint: string | undefined, token: string | undefined): void {
  if (endpoint === undefined) return;
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new InvalidInputError('endpoint', endpoint, 'not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidInputError('endpoint', endpoint, 'must be http:// or https://');
  if (url.protocol === 'http:' && !token) {
    throw new InvalidInputError('accessToken', undefined, `an http:// endpoint (${endpoint}) needs a static access token (option or GOOGLE_OAUTH_ACCESS_TOKEN); application default credentials are never sent in clear text`);
  }
}

function positive(field: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new InvalidInputError(field, value, 'must be a positive number');
  return value;
}
