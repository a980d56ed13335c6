import { readFileSync } from 'node:fs';
import { type NetworkConfig, parseNetworkConfig } from '../config/network.ts';
import { InvalidInputError } from '../errors.ts';

/** The network config from --net-config-path when given, else from the lease store. */
export async function loadNetworkConfig(path: string | undefined, fromStore: () => Promise<NetworkConfig>): Promise<NetworkConfig> {
  if (!path) return await fromStore();
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InvalidInputError('--net-config-path', path, `cannot be read: ${(err as Error).message}`, { cause: err });
  }
  return parseNetworkConfig(text, path);
}
