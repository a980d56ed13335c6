// src/kernel: the only code that talks to the kernel (iproute2 and nft, one
// process per batch). Every function takes an optional `netns`.
export { KernelCommandError, type KernelTarget } from './exec.ts';
export {
  type FdbObject, type KernelObject, type NeighObject, type RouteObject,
  TARTAN_ROUTE_PROTO, describeObject, ipv4Text, isUnicastMac, normalizeMac, objectKey, prefixText, routeKey,
} from './objects.ts';
export { type Change, type ChangeAction, countChanges, planChanges } from './plan.ts';
export { type FailedChange, applyChanges, describeFailure } from './batch.ts';
export { observeOwned } from './observe.ts';
export { KernelApplyError, KernelReconciler, type ReconcileOutcome } from './reconciler.ts';
export { type AddressInfo, type LinkInfo, connectedNetworks, ensureOnlyAddress, getLink, listAddresses, onConnectedNetwork } from './link.ts';
export { type VxlanDevice, type VxlanDeviceSpec, ensureVxlanDevice, randomVtepMac } from './vxlan-device.ts';
export { MASQ_TABLE, type MasqSpec, applyMasquerade, removeMasquerade, renderMasqRuleset } from './masq.ts';
