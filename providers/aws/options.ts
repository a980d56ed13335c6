// The AWS provider's options: checked once, then frozen (STYLE.md rule 4).
import { InvalidInputError } from '../../src/errors.ts';
import { type Cidr, parseCidr } from '../../src/net/cidr.ts';
import { type Logger, silentLogger } from '../../src/observe/log.ts';
import { type Clock, realClock } from '../../src/util/time.ts';
import type { RetryOptions } from '../shared/retry.ts';
import { type ProviderStart, routeTableIds } from '../shared/settings.ts';

export interface BucketSpec {
  readonly capacity: number;
  readonly refillPerSecond: number;
}

export interface TagSelector {
  readonly key: string;
  /** Any value when absent (`kubernetes.io/cluster/<name>` is `owned` or `shared`). */
  readonly value?: string | undefined;
}

export type RouteTableSelector = { readonly ids: readonly string[] } | { readonly tag: TagSelector };

export interface AwsProviderOptions {
  /** Required: this, else AWS_REGION (without one every EC2 call fails). */
  readonly region?: string | undefined;
  /** Where AWS_REGION is read from (default process.env). */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined;
  /** EC2 endpoint override; http is allowed (emulator, private endpoints). */
  readonly endpoint?: string | undefined;
  /** Explicit keys; otherwise the SDK's standard chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, profile, IMDS …). */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string | undefined } | undefined;
  /** The cluster Network: one IPv4 and optionally one IPv6 CIDR. */
  readonly clusterNetworks: readonly string[];
  /** Which route tables tartan manages: explicit ids, or every table with a tag. */
  readonly routeTables: RouteTableSelector;
  /** Restricts tag lookups and host lookups to one VPC. */
  readonly vpcId?: string | undefined;
  /** Routes per table and address family; EC2 cannot report it (default 50, AWS allows up to 1,000). */
  readonly routeQuota?: number | undefined;
  readonly clock?: Clock | undefined;
  /** Client-side buckets; defaults sit a little below EC2's documented 50/5 s and 100/20 s. */
  readonly rateLimits?: { readonly mutating?: BucketSpec | undefined; readonly describe?: BucketSpec | undefined } | undefined;
  readonly retry?: Pick<RetryOptions, 'attempts' | 'baseMs' | 'maxMs' | 'random'> | undefined;
  /** EC2 calls in flight at once, per class (mutating, describe); default 8. */
  readonly maxInFlight?: number | undefined;
  /** How long host lookups (IP → next hop) are reused (default 30 s). */
  readonly hostCacheTtlMs?: number | undefined;
  readonly requestTimeoutMs?: number | undefined;
  readonly logger?: Logger | undefined;
}

export interface ResolvedOptions {
  readonly region: string;
  readonly endpoint: string | undefined;
  readonly credentials: AwsProviderOptions['credentials'];
  readonly networks: readonly Cidr[];
  readonly routeTables: RouteTableSelector;
  readonly vpcId: string | undefined;
  readonly routeQuota: number;
  readonly clock: Clock;
  readonly mutating: BucketSpec;
  readonly describe: BucketSpec;
  readonly retry: NonNullable<AwsProviderOptions['retry']>;
  readonly maxInFlight: number;
  readonly hostCacheTtlMs: number;
  readonly requestTimeoutMs: number;
  readonly logger: Logger;
}

export const DEFAULT_MUTATING: BucketSpec = { capacity: 48, refillPerSecond: 4.8 };
export const DEFAULT_DESCRIBE: BucketSpec = { capacity: 95, refillPerSecond: 19 };

/** The tag cloud-provider-aws puts on a cluster's route tables (value `owned` or `shared`). */
export function kubernetesClusterTag(clusterName: string): TagSelector {
  return { key: `kubernetes.io/cluster/${clusterName}` };
}

/** tartan's own tag: `tartan.io/cluster=<name>`. */
export function tartanClusterTag(clusterName: string): TagSelector {
  return { key: 'tartan.io/cluster', value: clusterName };
}

export function resolveOptions(o: AwsProviderOptions): ResolvedOptions {
  const networks = o.clusterNetworks.map((n, i) => parseCidr(n, `clusterNetworks[${i}]`));
  if (networks.length === 0 || networks.length > 2 || new Set(networks.map((n) => n.family)).size !== networks.length) {
    throw new InvalidInputError('clusterNetworks', o.clusterNetworks, 'give one IPv4 and at most one IPv6 CIDR');
  }
  const region = o.region || (o.env ?? process.env).AWS_REGION;
  if (!region) throw new InvalidInputError('region', undefined, 'an AWS region is required (or set AWS_REGION)');
  checkSelector(o.routeTables);
  if (o.endpoint !== undefined && !/^https?:\/\/[^/]+/.test(o.endpoint)) throw new InvalidInputError('endpoint', o.endpoint, 'not an http(s) URL');
  const quota = o.routeQuota ?? 50;
  if (!Number.isInteger(quota) || quota < 1) throw new InvalidInputError('routeQuota', quota, 'must be a positive integer');
  const maxInFlight = o.maxInFlight ?? 8;
  if (!Number.isInteger(maxInFlight) || maxInFlight < 1) throw new InvalidInputError('maxInFlight', maxInFlight, 'must be a positive integer');
  return Object.freeze({
    region,
    endpoint: o.endpoint,
    credentials: o.credentials,
    networks: Object.freeze(networks),
    routeTables: o.routeTables,
    vpcId: o.vpcId,
    routeQuota: quota,
    clock: o.clock ?? realClock,
    mutating: checkBucket('rateLimits.mutating', o.rateLimits?.mutating ?? DEFAULT_MUTATING),
    describe: checkBucket('rateLimits.describe', o.rateLimits?.describe ?? DEFAULT_DESCRIBE),
    retry: { attempts: 8, baseMs: 200, maxMs: 10_000, ...o.retry },
    maxInFlight,
    hostCacheTtlMs: o.hostCacheTtlMs ?? 30_000,
    requestTimeoutMs: o.requestTimeoutMs ?? 30_000,
    logger: o.logger ?? silentLogger(),
  });
}

/** The options `tartan controller` / `tartan audit` start the provider with; errors name the flag. */
export function optionsFromFlags(s: ProviderStart): AwsProviderOptions {
  const region = s.flags.region || s.env.AWS_REGION;
  if (!region) throw new InvalidInputError('--region', undefined, 'is required for aws (or set AWS_REGION)');
  const ids = routeTableIds(s);
  return {
    region, endpoint: s.flags['cloud-endpoint'], clusterNetworks: s.clusterNetworks, vpcId: s.flags['vpc-id'],
    routeQuota: s.flags['route-quota'], logger: s.logger, env: s.env, requestTimeoutMs: s.flags['cloud-timeout'],
    routeTables: ids.length > 0 ? { ids } : { tag: tableTag(s.flags['route-table-tag'], s.flags['cluster-name']) },
  };
}

/** --route-table-tag: key or key=value; "kubernetes" for kubernetes.io/cluster/<name>; default tartan.io/cluster=<name>. */
export function tableTag(flag: string | undefined, clusterName: string): TagSelector {
  if (!flag) return tartanClusterTag(clusterName);
  if (flag === 'kubernetes') return kubernetesClusterTag(clusterName);
  const [key, value] = flag.split('=', 2);
  if (!key) throw new InvalidInputError('--route-table-tag', flag, 'must be key or key=value');
  return value === undefined ? { key } : { key, value };
}

function checkSelector(s: RouteTableSelector): void {
  if ('ids' in s) {
    if (s.ids.length === 0 || s.ids.some((id) => !/^rtb-[0-9a-f]+$/.test(id))) {
      throw new InvalidInputError('routeTables.ids', s.ids, 'give one or more route table ids (rtb-…)');
    }
  } else if (!s.tag.key) {
    throw new InvalidInputError('routeTables.tag.key', s.tag.key, 'must not be empty');
  }
}

function checkBucket(field: string, b: BucketSpec): BucketSpec {
  if (!(b.capacity >= 1 && b.refillPerSecond > 0)) throw new InvalidInputError(field, b, 'capacity must be ≥ 1 and refillPerSecond > 0');
  return b;
}
