// The GCE provider's public face: createGceProvider(options) → a RouteTableWriter
// and HostPreparer over one VPC network, talking to compute v1 through the real
// @google-cloud/compute client (REST), or to an emulator via `endpoint`.
import { createGceApi } from './api.ts';
import type { ProviderStart } from '../shared/settings.ts';
import { type GceProviderOptions, optionsFromFlags, resolveOptions } from './options.ts';
import { GceProvider } from './provider.ts';

export function createGceProvider(options: GceProviderOptions): GceProvider {
  const o = resolveOptions(options);
  const api = createGceApi({
    project: o.project,
    endpoint: o.endpoint,
    accessToken: o.accessToken,
    requestTimeoutMs: o.requestTimeoutMs,
    waitTimeoutMs: Math.max(o.requestTimeoutMs, 150_000),
  });
  return new GceProvider(o, api);
}

/** The provider `tartan controller` / `tartan audit` start with (flag errors name the flag). */
export function providerFromFlags(start: ProviderStart): GceProvider {
  return createGceProvider(optionsFromFlags(start));
}

export type { GceProvider } from './provider.ts';
export type { GceProviderOptions, GceRateLimits } from './options.ts';
export { routeNaming, type RouteNaming } from './names.ts';
