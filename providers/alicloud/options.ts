// createAlicloudProvider's options: validated once, with every default spelled
// out, into a frozen object the provider reads.
import { InvalidInputError } from '../../src/errors.ts';
import { parseCidr, type Cidr } from '../../src/net/cidr.ts';
import { type Logger, silentLogger } from '../../src/observe/log.ts';
import { type Clock, realClock } from '../../src/util/time.ts';
import type { RetryOptions } from '../shared/retry.ts';
import { type ProviderStart, requiredFlag, routeTableIds } from '../shared/settings.ts';
import type { TokenBucketOptions } from '../shared/token-bucket.ts';

export type VpcAction =
  | 'DescribeRouteTableList' | 'DescribeRouteEntryList' | 'CreateRouteEntry' | 'CreateRouteEntries'
  | 'DeleteRouteEntry' | 'DeleteRouteEntries' | 'ModifyRouteEntry';

export type RateLimit = Pick<TokenBucketOptions, 'capacity' | 'refillPerSecond'>;

export interface AlicloudProviderOptions {
  readonly regionId: string;
  readonly vpcId: string;
  /** Managed route tables (`vtb-…`). Absent: every Custom table of the VPC carrying `tableTag`. */
  readonly routeTableIds?: readonly string[] | undefined;
  /** The tag that marks managed tables when routeTableIds is absent; default `tartan.io/cluster=<clusterName>`. */
  readonly tableTag?: { readonly key: string; readonly value: string } | undefined;
  /** `host:port` or a URL (`http://127.0.0.1:8090` for an emulator). Default: the SDK's regional endpoint. */
  readonly endpoint?: string | undefined;
  /** Default: ALIBABA_CLOUD_ACCESS_KEY_ID / ALIBABA_CLOUD_ACCESS_KEY_SECRET (/ ALIBABA_CLOUD_SECURITY_TOKEN). */
  readonly credentials?: { readonly accessKeyId: string; readonly accessKeySecret: string; readonly securityToken?: string | undefined } | undefined;
  readonly env?: Readonly<Record<string, string | undefined>> | undefined;
  /** Names the marker on every entry tartan writes: RouteEntryName `tartan-<name>`, Description `tartan:<name>`. */
  readonly clusterName: string;
  /** Only routes inside these may be written or deleted. */
  readonly clusterNetworks: readonly string[];
  /** Custom entries per table (Alibaba's default quota is 200; it cannot be read through the VPC API). */
  readonly routeQuota?: number | undefined;
  /** Entries per CreateRouteEntries / DeleteRouteEntries call (the reference says up to 50). */
  readonly maxBatch?: number | undefined;
  /** Hosts without HostRef.instanceId: publicIp → ECS instance id (there is no ECS SDK to look them up). */
  readonly hostInstances?: Readonly<Record<string, string>> | undefined;
  /** Client-side rate limits per API, below the account's flow-control limits. */
  readonly rateLimits?: Partial<Record<VpcAction, RateLimit>> | undefined;
  readonly retry?: Pick<RetryOptions, 'attempts' | 'baseMs' | 'maxMs'> | undefined;
  /** How often to look while entries are Pending / Deleting. */
  readonly pollIntervalMs?: number | undefined;
  /** Give up waiting for Available / gone after this long (the write stays; the next pass sees it). */
  readonly settleTimeoutMs?: number | undefined;
  /** The deadline of one request (the SDK's read timeout); default 10 s. */
  readonly requestTimeoutMs?: number | undefined;
  /**
   * What one writer holds while it writes and waits: the VPC (default; the API
   * reference says an unstable entry blocks writes anywhere in the VPC) or one table.
   */
  readonly writeLockScope?: 'vpc' | 'table' | undefined;
  readonly clock?: Clock | undefined;
  readonly logger?: Logger | undefined;
}

/** Set below the emulator's (and, we assume, the account's) 20 reads/s and 10 writes/s per API. */
export const DEFAULT_READ_LIMIT: RateLimit = { capacity: 5, refillPerSecond: 15 };
export const DEFAULT_WRITE_LIMIT: RateLimit = { capacity: 2, refillPerSecond: 5 };

export interface ResolvedOptions {
  readonly regionId: string;
  readonly vpcId: string;
  readonly routeTableIds: readonly string[] | undefined;
  readonly tableTag: { readonly key: string; readonly value: string };
  readonly clusterName: string;
  readonly networks: readonly Cidr[];
  readonly routeQuota: number;
  readonly maxBatch: number;
  readonly hostInstances: ReadonlyMap<string, string>;
  readonly rateLimits: Readonly<Record<VpcAction, RateLimit>>;
  readonly retry: Pick<RetryOptions, 'attempts' | 'baseMs' | 'maxMs'>;
  readonly pollIntervalMs: number;
  readonly settleTimeoutMs: number;
  readonly writeLockScope: 'vpc' | 'table';
  readonly clock: Clock;
  readonly logger: Logger;
}

const ACTIONS: readonly VpcAction[] = [
  'DescribeRouteTableList', 'DescribeRouteEntryList', 'CreateRouteEntry', 'CreateRouteEntries',
  'DeleteRouteEntry', 'DeleteRouteEntries', 'ModifyRouteEntry',
];

export function resolveOptions(o: AlicloudProviderOptions): ResolvedOptions {
  if (!/^[a-z]{2}-[a-z0-9-]+$/.test(o.regionId ?? '')) throw new InvalidInputError('regionId', o.regionId, 'not an Alibaba Cloud region id (e.g. cn-hangzhou)');
  if (!/^vpc-[a-z0-9]+$/.test(o.vpcId ?? '')) throw new InvalidInputError('vpcId', o.vpcId, 'not a VPC id (vpc-…)');
  // The name lands in RouteEntryName (1–128 chars) and Description, so keep it short and plain.
  if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(o.clusterName ?? '')) {
    throw new InvalidInputError('clusterName', o.clusterName, 'must be 1–63 lower-case letters, digits or hyphens');
  }
  if (!o.clusterNetworks || o.clusterNetworks.length === 0) {
    throw new InvalidInputError('clusterNetworks', o.clusterNetworks, 'at least one CIDR is needed');
  }
  for (const id of o.routeTableIds ?? []) {
    if (!/^vtb-[a-z0-9]+$/.test(id)) throw new InvalidInputError('routeTableIds', id, 'not a route table id (vtb-…)');
  }
  const rateLimits = Object.fromEntries(ACTIONS.map((a) => [
    a, o.rateLimits?.[a] ?? (a.startsWith('Describe') ? DEFAULT_READ_LIMIT : DEFAULT_WRITE_LIMIT),
  ])) as Record<VpcAction, RateLimit>;
  return Object.freeze({
    regionId: o.regionId,
    vpcId: o.vpcId,
    routeTableIds: o.routeTableIds ? [...o.routeTableIds] : undefined,
    tableTag: o.tableTag ?? { key: 'tartan.io/cluster', value: o.clusterName },
    clusterName: o.clusterName,
    networks: o.clusterNetworks.map((n, i) => parseCidr(n, `clusterNetworks[${i}]`)),
    routeQuota: positive('routeQuota', o.routeQuota ?? 200),
    maxBatch: positive('maxBatch', o.maxBatch ?? 50),
    hostInstances: new Map(Object.entries(o.hostInstances ?? {})),
    rateLimits,
    retry: o.retry ?? {},
    pollIntervalMs: positive('pollIntervalMs', o.pollIntervalMs ?? 50),
    settleTimeoutMs: positive('settleTimeoutMs', o.settleTimeoutMs ?? 120_000),
    writeLockScope: o.writeLockScope ?? 'vpc',
    clock: o.clock ?? realClock,
    logger: o.logger ?? silentLogger(),
  });
}

/** The options `tartan controller` / `tartan audit` start the provider with; errors name the flag. */
export function optionsFromFlags(s: ProviderStart): AlicloudProviderOptions {
  const ids = routeTableIds(s);
  // flannel's ali-vpc backend options; the environment's standard variables otherwise.
  const keyId = s.backendOption('AccessKeyID');
  const secret = s.backendOption('AccessKeySecret');
  return {
    regionId: requiredFlag(s, 'region'), vpcId: requiredFlag(s, 'vpc-id'), clusterName: s.flags['cluster-name'], clusterNetworks: s.clusterNetworks,
    endpoint: s.flags['cloud-endpoint'], routeQuota: s.flags['route-quota'], logger: s.logger, env: s.env, requestTimeoutMs: s.flags['cloud-timeout'],
    routeTableIds: ids.length > 0 ? ids : undefined,
    credentials: typeof keyId === 'string' && typeof secret === 'string' ? { accessKeyId: keyId, accessKeySecret: secret } : undefined,
  };
}

/** Explicit credentials, else the SDK's standard environment variables. */
export function resolveCredentials(o: AlicloudProviderOptions): { accessKeyId: string; accessKeySecret: string; securityToken?: string | undefined } {
  if (o.credentials) return o.credentials;
  const env = o.env ?? process.env;
  const accessKeyId = env.ALIBABA_CLOUD_ACCESS_KEY_ID;
  const accessKeySecret = env.ALIBABA_CLOUD_ACCESS_KEY_SECRET;
  if (!accessKeyId || !accessKeySecret) {
    throw new InvalidInputError('credentials', undefined, 'set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, or pass credentials');
  }
  return { accessKeyId, accessKeySecret, securityToken: env.ALIBABA_CLOUD_SECURITY_TOKEN || undefined };
}

function positive(field: string, n: number): number {
  if (!Number.isFinite(n) || n <= 0) throw new InvalidInputError(field, n, 'must be a positive number');
  return n;
}
