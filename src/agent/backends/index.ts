// The data-plane backends by lease BackendType. An explicit map: importing this
// file registers nothing anywhere (no init() side effects as in flannel).
import { InvalidInputError } from '../../errors.ts';
import type { BackendFactory } from '../backend.ts';
import { createHostGwBackend } from './host-gw.ts';
import { createVxlanBackend } from './vxlan.ts';
import { createUdpBackend } from './udp/udp.ts';

export const backendFactories: ReadonlyMap<string, BackendFactory> = new Map<string, BackendFactory>([
  ['vxlan', createVxlanBackend],
  ['host-gw', createHostGwBackend],
  // Needs the TUN addon (npm ci builds it where a compiler is): the factory says what is missing.
  ['udp', createUdpBackend],
]);

/** The factory for a network config's Backend.Type (already lower-cased by the config parser). */
export function backendFactory(type: string): BackendFactory {
  const factory = backendFactories.get(type.toLowerCase());
  if (factory === undefined) {
    throw new InvalidInputError('Backend.Type', type, `is not a kernel backend tartan has; known: ${[...backendFactories.keys()].join(', ')}`);
  }
  return factory;
}

export { createHostGwBackend, createUdpBackend, createVxlanBackend };
export { hostGwPeerObjects } from './host-gw-peer.ts';
export { vxlanPeerObjects } from './vxlan-peer.ts';
export { KernelApplyError } from '../../kernel/index.ts';
