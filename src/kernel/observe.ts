// Reads kernel state as structured data (`ip -json`, `bridge -json`). Only what
// tartan owns is returned as KernelObjects: routes in table main with tartan's
// route protocol, and permanent neigh / fdb entries on tartan's own vxlan devices.
import type { Family } from '../net/cidr.ts';
import { formatIp, parseIp } from '../net/cidr.ts';
import { KernelCommandError, type KernelTarget, runJson } from './exec.ts';
import { type KernelObject, TARTAN_ROUTE_PROTO, normalizeMac, objectKey } from './objects.ts';

interface JsonRoute {
  dst?: string;
  gateway?: string;
  dev?: string;
  metric?: number;
  flags?: string[];
  type?: string;
}
interface JsonNeigh {
  dst?: string;
  lladdr?: string;
  state?: string[];
}
interface JsonFdb {
  mac?: string;
  dst?: string;
  state?: string;
  flags?: string[];
}

export interface OwnedScope extends KernelTarget {
  readonly families: readonly Family[];
  /** tartan's own devices (flannel.<VNI>, flannel-v6.<VNI>): their permanent neigh and fdb entries are tartan's. */
  readonly devices: readonly string[];
  readonly signal?: AbortSignal | undefined;
}

/** Everything tartan owns in the kernel, by objectKey. */
export async function observeOwned(scope: OwnedScope): Promise<Map<string, KernelObject>> {
  const parts = await Promise.all([
    ...scope.families.map((f) => listOwnedRoutes(f, scope)),
    ...scope.devices.map((d) => listPermanentNeigh(d, scope)),
    ...scope.devices.map((d) => listPermanentFdb(d, scope)),
  ]);
  const owned = new Map<string, KernelObject>();
  for (const list of parts) for (const o of list) owned.set(objectKey(o), o);
  return owned;
}

export async function listOwnedRoutes(family: Family, target: KernelTarget & { signal?: AbortSignal | undefined }): Promise<KernelObject[]> {
  const routes = await runJson<JsonRoute>(
    'ip', [`-${family}`, '-json', 'route', 'show', 'table', 'main', 'proto', String(TARTAN_ROUTE_PROTO)], target,
  );
  const out: KernelObject[] = [];
  for (const r of routes) {
    if (r.dst === undefined || r.dst === 'default' || r.gateway === undefined || r.dev === undefined) continue;
    if (r.type !== undefined && r.type !== 'unicast') continue;
    const metric = r.metric === undefined || r.metric === (family === 4 ? 0 : 1024) ? undefined : r.metric;
    out.push({
      kind: 'route', dst: canonicalPrefix(r.dst, family), via: canonicalIp(r.gateway), dev: r.dev,
      onlink: r.flags?.includes('onlink') ?? false, metric,
    });
  }
  return out;
}

export async function listPermanentNeigh(dev: string, target: KernelTarget & { signal?: AbortSignal | undefined }): Promise<KernelObject[]> {
  const entries = await ignoreMissingDevice(runJson<JsonNeigh>('ip', ['-json', 'neigh', 'show', 'dev', dev, 'nud', 'permanent'], target));
  const out: KernelObject[] = [];
  for (const n of entries) {
    const mac = n.lladdr === undefined ? undefined : normalizeMac(n.lladdr);
    if (n.dst === undefined || mac === undefined) continue;
    out.push({ kind: 'neigh', dev, ip: canonicalIp(n.dst), mac });
  }
  return out;
}

export async function listPermanentFdb(dev: string, target: KernelTarget & { signal?: AbortSignal | undefined }): Promise<KernelObject[]> {
  const entries = await ignoreMissingDevice(runJson<JsonFdb>('bridge', ['-json', 'fdb', 'show', 'dev', dev], target));
  const out: KernelObject[] = [];
  for (const f of entries) {
    const mac = f.mac === undefined ? undefined : normalizeMac(f.mac);
    if (mac === undefined || f.dst === undefined || f.state !== 'permanent' || mac === '00:00:00:00:00:00') continue;
    out.push({ kind: 'fdb', dev, mac, dst: canonicalIp(f.dst) });
  }
  return out;
}

async function ignoreMissingDevice<T>(p: Promise<T[]>): Promise<T[]> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof KernelCommandError && /Cannot find device|does not exist/.test(err.stderr)) return [];
    throw err;
  }
}

/** iproute2 prints IPv4 canonically; IPv6 goes through one formatter so keys always match. */
export function canonicalIp(text: string): string {
  if (!text.includes(':')) return text;
  const { family, addr } = parseIp(text);
  return formatIp(family, addr);
}

/** `10.5.2.7` (a host route as iproute2 prints it) → `10.5.2.7/32`; IPv6 normalised. */
export function canonicalPrefix(text: string, family: Family): string {
  const slash = text.indexOf('/');
  const ip = slash < 0 ? text : text.slice(0, slash);
  const prefix = slash < 0 ? (family === 4 ? 32 : 128) : Number(text.slice(slash + 1));
  return `${canonicalIp(ip)}/${prefix}`;
}
