// Which cloud network this host sits in: `aws:vpc-0abc`, `gce:projects/p/global/networks/n`,
// `ali:vpc-xyz`, or `none`. From --route-domain, else the cloud's instance metadata
// service (AWS IMDSv2, GCE metadata server, Alibaba metadata) with a bounded timeout.
// Published in the lease's BackendData as extra fields; flannel hosts ignore them.
import { type NetworkConfig, backendOption } from '../config/network.ts';
import { InvalidInputError, errorMessage } from '../errors.ts';

export type Cloud = 'aws' | 'gce' | 'ali';

export interface RouteDomain {
  /** `none`, or `<cloud>:<network id>`. */
  readonly id: string;
  /** The instance id the cloud knows this host by (routes' next hop), when known. */
  readonly instanceId?: string | undefined;
}

export const NO_DOMAIN: RouteDomain = { id: 'none' };

export function parseRouteDomain(text: string, field = '--route-domain'): RouteDomain {
  if (text === 'none') return NO_DOMAIN;
  const m = /^(aws|gce|ali):(\S+)$/.exec(text);
  if (!m) throw new InvalidInputError(field, text, 'must be none, aws:<vpc-id>, gce:projects/<p>/global/networks/<n> or ali:<vpc-id>');
  const [, cloud, id] = m;
  if (cloud === 'aws' && !/^vpc-[0-9a-z]+$/.test(id!)) throw new InvalidInputError(field, text, 'an AWS route domain is aws:vpc-…');
  if (cloud === 'ali' && !/^vpc-[0-9a-z]+$/.test(id!)) throw new InvalidInputError(field, text, 'an Alibaba route domain is ali:vpc-…');
  if (cloud === 'gce' && !/^projects\/[^/]+\/global\/networks\/[^/]+$/.test(id!)) {
    throw new InvalidInputError(field, text, 'a GCE route domain is gce:projects/<project>/global/networks/<network>');
  }
  return { id: text };
}

/** The cloud a network config's Backend.Type routes through. */
export function cloudOfBackend(type: string): Cloud | undefined {
  return type === 'aws-vpc' ? 'aws' : type === 'gce' ? 'gce' : type === 'ali-vpc' ? 'ali' : undefined;
}

/**
 * The config the kernel backend runs with. The cloud types aws-vpc / gce / ali-vpc
 * mean hybrid: the controller routes what the VPC can and the agent programs
 * Backend.Fallback (vxlan by default, DirectRouting on unless set, so a directly
 * connected peer gets a plain route) for every other peer. Other types as they are.
 */
export function kernelBackendConfig(config: NetworkConfig): NetworkConfig {
  if (!cloudOfBackend(config.backend.type)) return config;
  const fallback = backendOption(config.backend, 'Fallback') ?? 'vxlan';
  if (fallback !== 'vxlan' && fallback !== 'host-gw') throw new InvalidInputError('Backend.Fallback', fallback, 'must be "vxlan" or "host-gw"');
  const options = { ...config.backend.options };
  if (fallback === 'vxlan' && backendOption(config.backend, 'DirectRouting') === undefined) options.DirectRouting = true;
  return { ...config, backend: { type: fallback, options } };
}

export interface MetadataOptions {
  readonly cloud: Cloud;
  /** Base URL of the metadata service (tests point it at a local server). */
  readonly endpoint?: string | undefined;
  readonly timeoutMs: number;
  readonly fetch?: typeof fetch;
}

const DEFAULT_ENDPOINTS: Record<Cloud, string> = {
  aws: 'http://169.254.169.254',
  gce: 'http://metadata.google.internal',
  ali: 'http://100.100.100.200',
};

/** Asks the metadata service; on any failure (not on that cloud, timeout) answers `none`, never throws. */
export async function detectRouteDomain(opts: MetadataOptions): Promise<{ domain: RouteDomain; error?: string }> {
  const base = (opts.endpoint ?? DEFAULT_ENDPOINTS[opts.cloud]).replace(/\/+$/, '');
  const f = opts.fetch ?? fetch;
  const get = async (path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<string> => {
    const res = await f(`${base}${path}`, { method, headers, signal: AbortSignal.timeout(opts.timeoutMs) });
    if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status}`);
    return (await res.text()).trim();
  };
  try {
    switch (opts.cloud) {
      case 'aws': {
        const token = await get('/latest/api/token', { 'X-aws-ec2-metadata-token-ttl-seconds': '60' }, 'PUT');
        const h = { 'X-aws-ec2-metadata-token': token };
        const mac = await get('/latest/meta-data/mac', h);
        const vpc = await get(`/latest/meta-data/network/interfaces/macs/${mac}/vpc-id`, h);
        return { domain: { id: `aws:${vpc}`, instanceId: await get('/latest/meta-data/instance-id', h) } };
      }
      case 'gce': {
        const h = { 'Metadata-Flavor': 'Google' };
        const network = await get('/computeMetadata/v1/instance/network-interfaces/0/network', h);
        const project = await get('/computeMetadata/v1/project/project-id', h);
        const name = network.split('/').at(-1)!;
        const zone = (await get('/computeMetadata/v1/instance/zone', h)).split('/').at(-1)!;
        const instance = await get('/computeMetadata/v1/instance/name', h);
        return { domain: { id: `gce:projects/${project}/global/networks/${name}`, instanceId: `zones/${zone}/instances/${instance}` } };
      }
      case 'ali': {
        const vpc = await get('/latest/meta-data/vpc-id');
        return { domain: { id: `ali:${vpc}`, instanceId: await get('/latest/meta-data/instance-id') } };
      }
    }
  } catch (err) {
    return { domain: NO_DOMAIN, error: errorMessage(err) };
  }
}
