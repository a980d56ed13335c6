// The data-plane backends by lease BackendType. An explicit map: importing this
// file registers nothing anywhere (no init() side effects as in flannel).
import { InvalidInputError } from '../../errors.ts';
import type { BackendFactory } from '../backend.ts';
import { createHostGwBackend } from './host-gw.ts';
import { createVxlanBackend } from './vxlan.ts';

export const backendFactories: ReadonlyMap<string, BackendFactory> = new Map<string, BackendFactory>([
  ['vxlan', createVxlanBackend],
  ['host-gw', createHostGwBackend],
]);

/** The factory for a network config's Backend.Type (already lower-cased by the config parser). */
export function backendFactory(type: string): BackendFactory {
  const factory = backendFactories.get(type.toLowerCase());
  if (factory === undefined) {
    throw new InvalidInputError('Backend.Type', type, `is not a kernel backend tartan has; known: ${[...backendFactories.keys()].join(', ')}`);
  }
  return factory;
}

export { createHostGwBackend, createVxlanBackend };
export { hostGwPeerObjects } from './host-gw-peer.ts';
export { vxlanPeerObjects } from './vxlan-peer.ts';
export { KernelApplyError } from '../../kernel/index.ts';
