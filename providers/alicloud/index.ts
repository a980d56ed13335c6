// Alibaba Cloud VPC route tables for tartan's controller: the public face of
// providers/alicloud. createAlicloudProvider validates options, binds the SDK
// (api.ts) and returns a RouteTableWriter + BatchRouteWriter + RouteReplacer.
import { createVpcApi, type VpcApi } from './api.ts';
import type { ProviderStart } from '../shared/settings.ts';
import { type AlicloudProviderOptions, optionsFromFlags, resolveCredentials, resolveOptions } from './options.ts';
import { AlicloudProvider } from './provider.ts';

export type { AlicloudProviderOptions, RateLimit, VpcAction } from './options.ts';
export { DEFAULT_READ_LIMIT, DEFAULT_WRITE_LIMIT } from './options.ts';
export type { VpcApi } from './api.ts';
export { AlicloudProvider } from './provider.ts';
export { markerFor } from './ownership.ts';

export function createAlicloudProvider(options: AlicloudProviderOptions & { readonly api?: VpcApi }): AlicloudProvider {
  const resolved = resolveOptions(options);
  const api = options.api ?? createVpcApi({
    regionId: resolved.regionId, endpoint: options.endpoint, readTimeoutMs: options.requestTimeoutMs, ...resolveCredentials(options),
  });
  return new AlicloudProvider(api, resolved);
}

/** The provider `tartan controller` / `tartan audit` start with (flag errors name the flag). */
export function providerFromFlags(start: ProviderStart): AlicloudProvider {
  return createAlicloudProvider(optionsFromFlags(start));
}
