// The udp backend's options, flannel's names and defaults: {"Type":"udp","Port":8285}.
import { InvalidInputError } from '../../../errors.ts';
import { type NetworkConfig, backendOption } from '../../../config/network.ts';

/** flannel's udp port (pkg/backend/udp: defaultPort). */
export const UDP_DEFAULT_PORT = 8285;
/** IPv4 header (20) + UDP header (8): flannel0's MTU is the link's minus this. */
export const UDP_ENCAP_OVERHEAD = 28;

export interface UdpConfig {
  /** Bound on this host's external address; every peer is sent to at this same port. */
  readonly port: number;
}

export function parseUdpConfig(network: NetworkConfig): UdpConfig {
  const port = backendOption(network.backend, 'Port');
  if (network.ipv6) throw new InvalidInputError('EnableIPv6', true, 'the udp backend carries IPv4 only, as flannel\'s (use vxlan for IPv6)');
  if (network.ipv4 === undefined) throw new InvalidInputError('EnableIPv4', false, 'the udp backend needs an IPv4 Network');
  if (port === undefined || port === null || port === 0) return { port: UDP_DEFAULT_PORT };
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new InvalidInputError('Backend.Port', port, 'must be a whole number from 1 to 65535 (0 or absent: 8285)');
  }
  return { port };
}
