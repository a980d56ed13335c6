// flannel's network config (`<prefix>/config` or net-conf.json): parsed with
// case-insensitive keys like Go's encoding/json, defaults computed exactly as
// flannel's pkg/subnet config.go does, plus the checks flannel forgot.
import { InvalidInputError } from '../errors.ts';
import {
  type Cidr, type Family, bitsOf, contains, formatCidr, hostMask, lastAddr, networkAddr, parseCidr, size,
} from '../net/cidr.ts';
import type { JsonValue } from '../util/json.ts';

/** One family's address pool: leases are `subnetLen`-sized blocks in [subnetMin, subnetMax]. */
export interface SubnetPool {
  readonly family: Family;
  readonly network: Cidr;
  readonly subnetLen: number;
  readonly subnetMin: Cidr;
  readonly subnetMax: Cidr;
}

export interface BackendConfig {
  /** Lower-cased backend type, e.g. `vxlan`, `host-gw`, `aws-vpc`. */
  readonly type: string;
  /** The Backend object's other keys, as written (look them up with `backendOption`). */
  readonly options: Readonly<Record<string, JsonValue>>;
}

export interface NetworkConfig {
  readonly ipv4?: SubnetPool | undefined;
  readonly ipv6?: SubnetPool | undefined;
  readonly enableNFTables: boolean;
  readonly backend: BackendConfig;
}

const FIELDS = [
  'Network', 'IPv6Network', 'EnableIPv4', 'EnableIPv6', 'EnableNFTables', 'SubnetLen', 'SubnetMin', 'SubnetMax',
  'IPv6SubnetLen', 'IPv6SubnetMin', 'IPv6SubnetMax', 'Backend',
] as const;
type Field = (typeof FIELDS)[number];

/** Parses the JSON text of a network config; `source` names where it came from in errors. */
export function parseNetworkConfig(text: string, source = 'network config'): NetworkConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new InvalidInputError(source, text, `is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  return validateNetworkConfig(raw, source);
}

export function validateNetworkConfig(raw: unknown, source = 'network config'): NetworkConfig {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new InvalidInputError(source, raw, 'must be a JSON object');
  }
  const fields = foldKeys(raw as Record<string, JsonValue>, FIELDS);
  const enableIPv4 = optionalBool(fields, 'EnableIPv4', true);
  const enableIPv6 = optionalBool(fields, 'EnableIPv6', false);
  if (!enableIPv4 && !enableIPv6) {
    throw new InvalidInputError('EnableIPv4', false, 'at least one of EnableIPv4 and EnableIPv6 must be true');
  }
  return {
    ipv4: enableIPv4 ? buildPool(fields, 4) : undefined,
    ipv6: enableIPv6 ? buildPool(fields, 6) : undefined,
    enableNFTables: optionalBool(fields, 'EnableNFTables', false),
    backend: parseBackend(fields.Backend),
  };
}

const POOL_FIELDS = {
  4: { network: 'Network', len: 'SubnetLen', min: 'SubnetMin', max: 'SubnetMax', maxLen: 30, maxPrefix: 28, defaultLen: 24 },
  6: { network: 'IPv6Network', len: 'IPv6SubnetLen', min: 'IPv6SubnetMin', max: 'IPv6SubnetMax', maxLen: 126, maxPrefix: 124, defaultLen: 64 },
} as const;

function buildPool(fields: Partial<Record<Field, JsonValue>>, family: Family): SubnetPool {
  const f = POOL_FIELDS[family];
  const networkText = fields[f.network];
  if (typeof networkText !== 'string' || networkText === '') {
    throw new InvalidInputError(f.network, networkText, `is required when ${family === 4 ? 'EnableIPv4' : 'EnableIPv6'} is true`);
  }
  const network = parseCidr(networkText, f.network);
  if (network.family !== family) throw new InvalidInputError(f.network, networkText, `must be an IPv${family} network`);
  const subnetLen = resolveSubnetLen(fields[f.len], network, f);
  const subnetBlock = (addr: bigint): Cidr => ({ family, addr, prefix: subnetLen });
  const subnetMin = resolveBound(fields[f.min], f.min, network, subnetLen) ??
    subnetBlock(networkAddr(network) + size({ family, prefix: subnetLen }));
  const subnetMax = resolveBound(fields[f.max], f.max, network, subnetLen) ??
    subnetBlock(lastAddr(network) - size({ family, prefix: subnetLen }) + 1n);
  if (subnetMin.addr > subnetMax.addr) {
    throw new InvalidInputError(f.min, formatCidr(subnetMin), `must not be above ${f.max} ${formatCidr(subnetMax)}`);
  }
  return { family, network, subnetLen, subnetMin, subnetMax };
}

function resolveSubnetLen(
  value: JsonValue | undefined,
  network: Cidr,
  f: (typeof POOL_FIELDS)[Family],
): number {
  if (value === undefined || value === null || value === 0) {
    if (network.prefix > f.maxPrefix) {
      throw new InvalidInputError(f.network, formatCidr(network), `minimum useful network prefix is /${f.maxPrefix}`);
    }
    return network.prefix <= f.defaultLen - 2 ? f.defaultLen : network.prefix + 2;
  }
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new InvalidInputError(f.len, value, 'must be a whole number');
  }
  if (value > f.maxLen) throw new InvalidInputError(f.len, value, `must be at most ${f.maxLen}`);
  if (value < network.prefix + 2) {
    throw new InvalidInputError(f.len, value, `must be at least ${network.prefix + 2} so that ${formatCidr(network)} holds four subnets`);
  }
  return value;
}

function resolveBound(value: JsonValue | undefined, field: string, network: Cidr, subnetLen: number): Cidr | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new InvalidInputError(field, value, 'must be an IP address string');
  const text = value.includes('/') ? value : `${value}/${bitsOf(network.family)}`;
  const ip = parseCidr(text, field, { allowHostBits: true });
  const block: Cidr = { family: ip.family, addr: ip.addr, prefix: subnetLen };
  if (!contains(network, { ...ip, prefix: bitsOf(ip.family) })) {
    throw new InvalidInputError(field, value, `is not inside the network ${formatCidr(network)}`);
  }
  if ((ip.addr & hostMask(block)) !== 0n) {
    throw new InvalidInputError(field, value, `is not on a /${subnetLen} boundary`);
  }
  return block;
}

function parseBackend(value: JsonValue | undefined): BackendConfig {
  if (value === undefined || value === null) return { type: 'vxlan', options: {} };
  if (typeof value !== 'object' || Array.isArray(value)) throw new InvalidInputError('Backend', value, 'must be a JSON object');
  const options: Record<string, JsonValue> = {};
  let type: JsonValue | undefined;
  for (const [key, v] of Object.entries(value)) {
    if (key.toLowerCase() === 'type') type = v;
    else options[key] = v;
  }
  if (type === undefined || type === null || type === '') return { type: 'vxlan', options };
  if (typeof type !== 'string') throw new InvalidInputError('Backend.Type', type, 'must be a string');
  return { type: type.toLowerCase(), options };
}

/** Case-insensitive lookup of one Backend option, as Go's json.Unmarshal matches keys. */
export function backendOption(backend: BackendConfig, name: string): JsonValue | undefined {
  const want = name.toLowerCase();
  for (const [key, v] of Object.entries(backend.options)) if (key.toLowerCase() === want) return v;
  return undefined;
}

function foldKeys<K extends string>(obj: Record<string, JsonValue>, known: readonly K[]): Partial<Record<K, JsonValue>> {
  const byLower = new Map(known.map((k) => [k.toLowerCase(), k]));
  const out: Partial<Record<K, JsonValue>> = {};
  for (const [key, value] of Object.entries(obj)) {
    const canonical = byLower.get(key.toLowerCase());
    if (canonical !== undefined) out[canonical] = value;
  }
  return out;
}

function optionalBool(fields: Partial<Record<Field, JsonValue>>, field: Field, fallback: boolean): boolean {
  const value = fields[field];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean') throw new InvalidInputError(field, value, 'must be true or false');
  return value;
}
