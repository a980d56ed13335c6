// The vxlan backend's options, read from the network config's Backend object with
// flannel's names and defaults (keys case-insensitive, zero values mean "default").
import { InvalidInputError } from '../../errors.ts';
import { type BackendConfig, type NetworkConfig, backendOption } from '../../config/network.ts';

/** Linux's own default vxlan port (IANA's is 4789); flannel's Port 0 means this. */
export const LINUX_VXLAN_PORT = 8472;
const IFNAMSIZ = 15;

export interface VxlanConfig {
  readonly vni: number;
  readonly port: number;
  readonly gbp: boolean;
  readonly learning: boolean;
  /** Device MTU when configured; otherwise the external link MTU minus the encapsulation. */
  readonly mtu?: number | undefined;
  readonly directRouting: boolean;
  readonly deviceV4: string;
  readonly deviceV6: string;
}

export function parseVxlanConfig(network: NetworkConfig): VxlanConfig {
  const backend = network.backend;
  const vni = wholeNumber(backend, 'VNI', 0, 0xffffff) || 1;
  const port = wholeNumber(backend, 'Port', 0, 65535) || LINUX_VXLAN_PORT;
  const mtu = wholeNumber(backend, 'MTU', 0, 65535);
  if (mtu !== 0 && mtu < 68) throw new InvalidInputError('Backend.MTU', mtu, 'must be at least 68 (or 0 for the default)');
  const config: VxlanConfig = {
    vni,
    port,
    gbp: flag(backend, 'GBP'),
    learning: flag(backend, 'Learning'),
    mtu: mtu === 0 ? undefined : mtu,
    directRouting: flag(backend, 'DirectRouting'),
    deviceV4: `flannel.${vni}`,
    deviceV6: `flannel-v6.${vni}`,
  };
  const names = [...(network.ipv4 ? [config.deviceV4] : []), ...(network.ipv6 ? [config.deviceV6] : [])];
  for (const name of names) {
    if (name.length > IFNAMSIZ) {
      throw new InvalidInputError('Backend.VNI', vni, `makes the device name ${name} longer than the kernel's ${IFNAMSIZ} characters`);
    }
  }
  return config;
}

function wholeNumber(backend: BackendConfig, name: string, min: number, max: number): number {
  const value = backendOption(backend, name);
  if (value === undefined || value === null) return 0;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidInputError(`Backend.${name}`, value, `must be a whole number from ${min} to ${max}`);
  }
  return value;
}

function flag(backend: BackendConfig, name: string): boolean {
  const value = backendOption(backend, name);
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') throw new InvalidInputError(`Backend.${name}`, value, 'must be true or false');
  return value;
}
