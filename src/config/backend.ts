// Rules on the network config's Backend that several commands share.
import { InvalidInputError } from '../errors.ts';
import { type NetworkConfig, backendOption } from './network.ts';

export type Cloud = 'aws' | 'gce' | 'ali';

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
