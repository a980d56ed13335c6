// What `tartan controller` and `tartan audit` hand a cloud to build its provider:
// the provider flags' values (by flag name) and what the network config says.
// Each cloud's options.ts turns this into its own options (optionsFromFlags);
// errors name the flag, e.g. `--region`.
import { InvalidInputError } from '../../src/errors.ts';
import type { Logger } from '../../src/observe/log.ts';

/** The values of the CLI's provider flags, by flag name. */
export interface ProviderFlagValues {
  readonly 'cluster-name': string;
  readonly 'cloud-endpoint'?: string | undefined;
  readonly region?: string | undefined;
  readonly 'vpc-id'?: string | undefined;
  readonly 'route-table-ids'?: readonly string[] | undefined;
  readonly 'route-table-tag'?: string | undefined;
  readonly project?: string | undefined;
  readonly network?: string | undefined;
  readonly 'route-quota'?: number | undefined;
  /** --cloud-timeout: the deadline of one API request (ms). */
  readonly 'cloud-timeout'?: number | undefined;
}

export interface ProviderStart {
  readonly flags: ProviderFlagValues;
  /** The network config's cluster Network(s), canonical CIDRs. */
  readonly clusterNetworks: readonly string[];
  /** A Backend option of the network config by flannel's name (RouteTableID, AccessKeyID, …), matched case-insensitively. */
  readonly backendOption: (name: string) => unknown;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly logger: Logger;
}

/** A flag this provider cannot start without. */
export function requiredFlag(s: ProviderStart, name: 'region' | 'vpc-id' | 'project' | 'network'): string {
  const value = s.flags[name];
  if (!value) throw new InvalidInputError(`--${name}`, undefined, 'is required for this provider');
  return value;
}

/** --route-table-ids, else the network config's Backend.RouteTableID (flannel's aws-vpc / ali-vpc option); empty: find tables by tag. */
export function routeTableIds(s: ProviderStart): readonly string[] {
  const given = s.flags['route-table-ids'] ?? [];
  if (given.length > 0) return given;
  const value = s.backendOption('RouteTableID');
  if (value === undefined || value === null || value === '') return [];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value;
  throw new InvalidInputError('Backend.RouteTableID', value, 'must be a route table id or a list of them');
}
