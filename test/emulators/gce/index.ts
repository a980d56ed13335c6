// The GCE compute v1 emulator's public face: start it in process, drive it with
// the admin API. The real @google-cloud/compute client talks to it unchanged.
export { startGceEmulator, type GceEmulator, type GceEmulatorOptions } from './server.ts';
export type { CallRecord, GceAdmin, InstanceSeed, RouteSeed } from './admin.ts';
export { DOCUMENTED_RATE_LIMITS, type FaultRequest, type RateLimitConfig } from './limits.ts';
export type { OperationTiming } from './world.ts';
