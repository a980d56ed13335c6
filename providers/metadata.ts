// Where each cloud's instance metadata service says which network (route domain)
// and which instance a host is: cloud knowledge, kept with the providers. Plain
// HTTP through the `get` the caller hands in (no SDK): the agent loads this on
// every host. Each answer throws on any failure; the caller decides what that means.
import { formatRouteDomain } from '../src/lease/hybrid.ts';

export type MetadataCloud = 'aws' | 'gce' | 'ali';

/** GET (or PUT) a path under the metadata base URL; resolves the trimmed body, rejects on non-2xx or timeout. */
export type MetadataGet = (path: string, headers?: Record<string, string>, method?: string) => Promise<string>;

export interface HostIdentity {
  /** `<cloud>:<network id>`: aws:vpc-…, gce:projects/<p>/global/networks/<n>, ali:vpc-…. */
  readonly routeDomain: string;
  /** The id the cloud's route tables name this host by. */
  readonly instanceId: string;
}

export const METADATA_ENDPOINTS: Readonly<Record<MetadataCloud, string>> = {
  aws: 'http://169.254.169.254',
  gce: 'http://metadata.google.internal',
  ali: 'http://100.100.100.200',
};

/** AWS IMDSv2: a session token first, then the primary interface's VPC and the instance id. */
async function aws(get: MetadataGet): Promise<HostIdentity> {
  const token = await get('/latest/api/token', { 'X-aws-ec2-metadata-token-ttl-seconds': '60' }, 'PUT');
  const h = { 'X-aws-ec2-metadata-token': token };
  const mac = await get('/latest/meta-data/mac', h);
  const vpc = await get(`/latest/meta-data/network/interfaces/macs/${mac}/vpc-id`, h);
  return { routeDomain: formatRouteDomain({ cloud: 'aws', vpcId: vpc }), instanceId: await get('/latest/meta-data/instance-id', h) };
}

/** GCE: the first interface's network, the project, and the instance as zones/<z>/instances/<name>. */
async function gce(get: MetadataGet): Promise<HostIdentity> {
  const h = { 'Metadata-Flavor': 'Google' };
  const network = await get('/computeMetadata/v1/instance/network-interfaces/0/network', h);
  const project = await get('/computeMetadata/v1/project/project-id', h);
  const name = network.split('/').at(-1)!;
  const zone = (await get('/computeMetadata/v1/instance/zone', h)).split('/').at(-1)!;
  const instance = await get('/computeMetadata/v1/instance/name', h);
  return { routeDomain: formatRouteDomain({ cloud: 'gce', project, network: name }), instanceId: `zones/${zone}/instances/${instance}` };
}

/** Alibaba Cloud ECS metadata: the VPC and the instance id. */
async function ali(get: MetadataGet): Promise<HostIdentity> {
  const vpc = await get('/latest/meta-data/vpc-id');
  return { routeDomain: formatRouteDomain({ cloud: 'ali', vpcId: vpc }), instanceId: await get('/latest/meta-data/instance-id') };
}

export const IDENTIFY: Readonly<Record<MetadataCloud, (get: MetadataGet) => Promise<HostIdentity>>> = { aws, gce, ali };
