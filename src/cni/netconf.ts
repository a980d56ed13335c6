// The network config a runtime hands flannel's plugin on stdin (kube-flannel's cni-conf.json
// entry after libcni added name and cniVersion):
//   {"cniVersion","name","type":"flannel","delegate":{…},"subnetFile","dataDir","ipam","runtimeConfig"}
// Every problem names its key.
import { CniCode, CniError, configError } from './errors.ts';
import { DEFAULT_SUBNET_FILE } from './subnet-file.ts';

export const DEFAULT_DATA_DIR = '/var/lib/cni/flannel';

export type JsonObject = Record<string, unknown>;

export interface NetConf {
  readonly cniVersion: string;
  readonly name: string;
  readonly subnetFile: string;
  readonly dataDir: string;
  /** The user's delegate block (never holds `name` or `ipam`; `type`, if any, is a string). */
  readonly delegate: JsonObject;
  readonly ipam?: JsonObject | undefined;
  readonly runtimeConfig?: JsonObject | undefined;
  /** Set by the runtime for CHECK (and for ADD when flannel is not first in a chain). */
  readonly prevResult?: JsonObject | undefined;
}

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function parseNetConf(text: string): NetConf {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new CniError(CniCode.decodeFailure, `network config on stdin is not JSON: ${(err as Error).message}`, { cause: err });
  }
  if (!isObject(raw)) throw new CniError(CniCode.decodeFailure, 'network config on stdin must be a JSON object');
  const name = raw['name'];
  if (typeof name !== 'string' || name === '') throw configError('name', name, 'must be a non-empty string');
  const delegate = optionalObject(raw, 'delegate') ?? {};
  if ('type' in delegate && typeof delegate['type'] !== 'string') throw configError('delegate.type', delegate['type'], 'must be a string');
  for (const key of ['name', 'ipam']) {
    if (key in delegate) throw configError(`delegate.${key}`, delegate[key], `must not be set: flannel's plugin sets it`);
  }
  const ipam = optionalObject(raw, 'ipam');
  if (ipam && 'routes' in ipam) checkRoutes(ipam['routes']);
  return {
    cniVersion: optionalString(raw, 'cniVersion') ?? '',
    name,
    subnetFile: optionalString(raw, 'subnetFile') || DEFAULT_SUBNET_FILE,
    dataDir: optionalString(raw, 'dataDir') || DEFAULT_DATA_DIR,
    delegate: { ...delegate },
    ipam: ipam ? { ...ipam } : undefined,
    runtimeConfig: optionalObject(raw, 'runtimeConfig'),
    prevResult: optionalObject(raw, 'prevResult'),
  };
}

function optionalString(raw: JsonObject, key: string): string | undefined {
  const v = raw[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw configError(key, v, 'must be a string');
  return v;
}

function optionalObject(raw: JsonObject, key: string): JsonObject | undefined {
  const v = raw[key];
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw configError(key, v, 'must be an object');
  return v;
}

function checkRoutes(routes: unknown): void {
  if (!Array.isArray(routes)) throw configError('ipam.routes', routes, 'must be a list of {"dst": "<cidr>"}');
  routes.forEach((r: unknown, i) => {
    if (!isObject(r) || typeof r['dst'] !== 'string') throw configError(`ipam.routes[${i}].dst`, isObject(r) ? r['dst'] : r, 'must be a string');
  });
}
