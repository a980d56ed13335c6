// The AWS provider's public face.
import { createEc2Api } from './api.ts';
import { type AwsProviderOptions, optionsFromFlags, resolveOptions } from './options.ts';
import type { ProviderStart } from '../shared/settings.ts';
import { AwsProvider } from './provider.ts';

export type { AwsProvider } from './provider.ts';
export { kubernetesClusterTag, tartanClusterTag, DEFAULT_DESCRIBE, DEFAULT_MUTATING } from './options.ts';
export type { AwsProviderOptions, BucketSpec, RouteTableSelector, TagSelector } from './options.ts';

/** Builds the provider; options are checked here (InvalidInputError names the field). */
export function createAwsProvider(options: AwsProviderOptions): AwsProvider {
  return new AwsProvider(resolveOptions(options), createEc2Api);
}

/** The provider `tartan controller` / `tartan audit` start with (flag errors name the flag). */
export function providerFromFlags(start: ProviderStart): AwsProvider {
  return createAwsProvider(optionsFromFlags(start));
}
