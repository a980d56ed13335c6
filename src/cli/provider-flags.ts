// The cloud provider flags `tartan controller` and `tartan audit` share, and the
// one place that builds a provider from them (plus the network config's Backend
// section, with flannel's option names: aws-vpc RouteTableID, ali-vpc AccessKeyID…).
import { type FlagSpec, type FlagValues, list, num, str } from '../config/flags.ts';
import { type NetworkConfig, backendOption } from '../config/network.ts';
import { InvalidInputError } from '../errors.ts';
import { formatCidr } from '../net/cidr.ts';
import type { Logger } from '../observe/log.ts';
import type { ProviderName, RouteTableWriter } from '../../providers/route-table.ts';

export const PROVIDER_FLAGS: readonly FlagSpec[] = [
  { name: 'provider', type: 'string', choices: ['aws', 'gce', 'alicloud'], help: 'cloud provider (default: from the network config Backend.Type aws-vpc / gce / ali-vpc)' },
  { name: 'cloud-endpoint', type: 'string', help: 'API endpoint override (http allowed: emulators, private endpoints)' },
  { name: 'cluster-name', type: 'string', default: 'tartan', help: 'names and marks the routes tartan owns; finds tagged route tables' },
  { name: 'region', type: 'string', help: 'AWS region / Alibaba RegionId' },
  { name: 'vpc-id', type: 'string', help: 'AWS or Alibaba VPC id' },
  { name: 'route-table-ids', type: 'list', default: [], help: 'managed route tables (default: Backend.RouteTableID, else tables tagged for the cluster)' },
  { name: 'route-table-tag', type: 'string', help: 'find managed tables by tag key[=value] (default tartan.io/cluster=<cluster-name>; "kubernetes" for kubernetes.io/cluster/<name>)' },
  { name: 'project', type: 'string', help: 'GCE project' },
  { name: 'network', type: 'string', help: 'GCE VPC network name' },
  { name: 'route-quota', type: 'int', min: 1, max: 100_000, help: 'routes a table may hold (AWS default 50, GCE the project quota or 250, Alibaba 200)' },
];

const TYPE_TO_PROVIDER: Readonly<Record<string, ProviderName>> = { 'aws-vpc': 'aws', gce: 'gce', 'ali-vpc': 'alicloud' };

export function providerName(values: FlagValues, config: NetworkConfig): Exclude<ProviderName, 'fake'> {
  const given = str(values, 'provider') as Exclude<ProviderName, 'fake'> | undefined;
  if (given) return given;
  const fromConfig = TYPE_TO_PROVIDER[config.backend.type];
  if (!fromConfig || fromConfig === 'fake') {
    throw new InvalidInputError('--provider', undefined, `is required when Backend.Type is ${JSON.stringify(config.backend.type)} (use aws, gce or alicloud)`);
  }
  return fromConfig;
}

/** Builds the chosen provider; only its SDK is loaded (each SDK costs tens of MB). */
export async function buildProvider(values: FlagValues, config: NetworkConfig, log: Logger): Promise<RouteTableWriter> {
  const name = providerName(values, config);
  const clusterName = str(values, 'cluster-name')!;
  const clusterNetworks = [config.ipv4?.network, config.ipv6?.network].filter((n) => n !== undefined).map(formatCidr);
  const endpoint = str(values, 'cloud-endpoint');
  const quota = values['route-quota'] === undefined ? undefined : num(values, 'route-quota');
  const tableIds = list(values, 'route-table-ids').length > 0 ? list(values, 'route-table-ids') : routeTableIdsFromConfig(config);
  switch (name) {
    case 'aws': {
      const { createAwsProvider, kubernetesClusterTag, tartanClusterTag } = await import('../../providers/aws/index.ts');
      const tag = (flag: string | undefined): { key: string; value?: string } => {
        if (!flag) return tartanClusterTag(clusterName);
        if (flag === 'kubernetes') return kubernetesClusterTag(clusterName);
        const [key, value] = flag.split('=', 2);
        if (!key) throw new InvalidInputError('--route-table-tag', flag, 'must be key or key=value');
        return value === undefined ? { key } : { key, value };
      };
      return createAwsProvider({
        region: str(values, 'region'), endpoint, clusterNetworks, vpcId: str(values, 'vpc-id'), routeQuota: quota, logger: log,
        routeTables: tableIds.length > 0 ? { ids: tableIds } : { tag: tag(str(values, 'route-table-tag')) },
      });
    }
    case 'gce': {
      const { createGceProvider } = await import('../../providers/gce/index.ts');
      return createGceProvider({
        project: required(values, 'project'), network: required(values, 'network'), clusterName, clusterNetworks,
        ...(endpoint ? { endpoint } : {}), ...(quota ? { routeQuota: quota } : {}), logger: log,
      });
    }
    case 'alicloud': {
      const { createAlicloudProvider } = await import('../../providers/alicloud/index.ts');
      const keyId = backendOption(config.backend, 'AccessKeyID');
      const secret = backendOption(config.backend, 'AccessKeySecret');
      return createAlicloudProvider({
        regionId: required(values, 'region'), vpcId: required(values, 'vpc-id'), clusterName, clusterNetworks, endpoint, routeQuota: quota, logger: log,
        routeTableIds: tableIds.length > 0 ? tableIds : undefined,
        credentials: typeof keyId === 'string' && typeof secret === 'string' ? { accessKeyId: keyId, accessKeySecret: secret } : undefined,
      });
    }
  }
}

function routeTableIdsFromConfig(config: NetworkConfig): string[] {
  const value = backendOption(config.backend, 'RouteTableID');
  if (value === undefined || value === null || value === '') return [];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value;
  throw new InvalidInputError('Backend.RouteTableID', value, 'must be a route table id or a list of them');
}

function required(values: FlagValues, name: string): string {
  const v = str(values, name);
  if (!v) throw new InvalidInputError(`--${name}`, undefined, 'is required for this provider');
  return v;
}
