// The cloud provider flags `tartan controller` and `tartan audit` share, and the
// one place that builds a provider from them: which cloud (the flag, else the
// network config's Backend.Type aws-vpc / gce / ali-vpc), loading only that cloud's
// module, which turns the flag values into its options (providers/<cloud>/options.ts).
import { flagTable } from '../config/flags.ts';
import { type NetworkConfig, backendOption } from '../config/network.ts';
import { InvalidInputError } from '../errors.ts';
import { formatCidr } from '../net/cidr.ts';
import type { Logger } from '../observe/log.ts';
import type { ProviderName, RouteTableWriter } from '../../providers/route-table.ts';
import type { ProviderFlagValues, ProviderStart } from '../../providers/shared/settings.ts';

export const PROVIDER_FLAGS = flagTable([
  { name: 'provider', type: 'string', choices: ['aws', 'gce', 'alicloud'], help: 'cloud provider (default: from the network config Backend.Type aws-vpc / gce / ali-vpc)' },
  { name: 'cloud-endpoint', type: 'string', help: 'API endpoint override (http allowed: emulators, private endpoints)' },
  { name: 'cluster-name', type: 'string', default: 'tartan', help: 'names and marks the routes tartan owns; finds tagged route tables' },
  { name: 'region', type: 'string', help: 'AWS region / Alibaba RegionId' },
  { name: 'vpc-id', type: 'string', help: 'AWS or Alibaba VPC id' },
  { name: 'route-table-ids', type: 'list', default: [], help: 'managed route tables (default: Backend.RouteTableID, else tables tagged for the cluster)' },
  { name: 'route-table-tag', type: 'string', check: (v) => (v.startsWith('=') ? 'must be key or key=value' : undefined), help: 'find managed tables by tag key[=value] (default tartan.io/cluster=<cluster-name>; "kubernetes" for kubernetes.io/cluster/<name>)' },
  { name: 'project', type: 'string', help: 'GCE project' },
  { name: 'network', type: 'string', help: 'GCE VPC network name' },
  { name: 'cloud-timeout', type: 'duration', default: '30s', min: '1s', max: '10m', help: 'deadline of one cloud API request (connect, send, answer); a request past it is aborted and retried' },
  { name: 'route-quota', type: 'int', min: 1, max: 100_000, help: 'routes a table may hold (AWS default 50, GCE the project quota or 250, Alibaba 200)' },
]);

const TYPE_TO_PROVIDER: Readonly<Record<string, ProviderName>> = { 'aws-vpc': 'aws', gce: 'gce', 'ali-vpc': 'alicloud' };

type CloudName = Exclude<ProviderName, 'fake'>;

/** Each cloud's module, loaded on demand: only the chosen SDK is loaded (each costs tens of MB). */
const CLOUDS: Readonly<Record<CloudName, () => Promise<{ providerFromFlags(start: ProviderStart): RouteTableWriter }>>> = {
  aws: () => import('../../providers/aws/index.ts'),
  gce: () => import('../../providers/gce/index.ts'),
  alicloud: () => import('../../providers/alicloud/index.ts'),
};

/** Parsed flag values, by flag name. */
type Values = Readonly<Record<string, unknown>>;

export function providerName(values: Values, config: NetworkConfig): CloudName {
  const given = text(values.provider) as CloudName | undefined;
  if (given) return given;
  const fromConfig = TYPE_TO_PROVIDER[config.backend.type];
  if (!fromConfig || fromConfig === 'fake') {
    throw new InvalidInputError('--provider', undefined, `is required when Backend.Type is ${JSON.stringify(config.backend.type)} (use aws, gce or alicloud)`);
  }
  return fromConfig;
}

/** Builds the chosen provider from the flags and the network config. */
export async function buildProvider(values: Values, config: NetworkConfig, log: Logger): Promise<RouteTableWriter> {
  const cloud = await CLOUDS[providerName(values, config)]();
  return cloud.providerFromFlags({
    flags: providerFlagValues(values),
    clusterNetworks: [config.ipv4?.network, config.ipv6?.network].filter((n) => n !== undefined).map(formatCidr),
    backendOption: (name) => backendOption(config.backend, name),
    env: process.env,
    logger: log,
  });
}

/** The PROVIDER_FLAGS values, typed. */
function providerFlagValues(values: Values): ProviderFlagValues {
  const quota = values['route-quota'];
  const ids = values['route-table-ids'];
  return {
    'cluster-name': text(values['cluster-name']) ?? 'tartan',
    'cloud-endpoint': text(values['cloud-endpoint']),
    region: text(values.region),
    'vpc-id': text(values['vpc-id']),
    'route-table-ids': Array.isArray(ids) ? ids.filter((id): id is string => typeof id === 'string') : [],
    'route-table-tag': text(values['route-table-tag']),
    project: text(values.project),
    network: text(values.network),
    'route-quota': typeof quota === 'number' ? quota : undefined,
    'cloud-timeout': typeof values['cloud-timeout'] === 'number' ? values['cloud-timeout'] : undefined,
  };
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
