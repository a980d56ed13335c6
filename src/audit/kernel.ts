// The kernel half of the audit, pure: which objects this host's agent should
// have for its peers vs which tartan-owned objects the kernel has.
//
// "Should have" is not re-derived here: the agent's own PeerLoop computes it (own
// lease excluded, peers of another BackendType ignored, unusable or clashing peers
// skipped with their working objects retained), driven with a reconciler that only
// records what it is asked for. The difference is the kernel planner's, read as a
// report instead of a to-do list: add → missing, replace → different, delete → extra.
import { PeerLoop, type PeerObjects } from '../agent/backends/peer-loop.ts';
import { type KernelObject, describeObject, ipv4Text, objectKey, planChanges, prefixText } from '../kernel/index.ts';
import { backendField, type Lease } from '../lease/lease.ts';
import { equalCidr, formatIp } from '../net/cidr.ts';
import { silentLogger } from '../observe/log.ts';
import type { KernelDriftItem, KernelObjectJson } from './report.ts';

export interface KernelExpectation {
  readonly desired: ReadonlyMap<string, KernelObject>;
  readonly retainDsts: ReadonlySet<string>;
  /** objectKey → the peer lease that needs it. */
  readonly owners: ReadonlyMap<string, string>;
  readonly peers: number;
  readonly skipped: readonly { readonly lease: string; readonly reason: string }[];
}

export interface ExpectInput {
  readonly leases: readonly Lease[];
  readonly own: Lease;
  readonly backendType: string;
  readonly objectsFor: (lease: Lease) => PeerObjects;
}

export async function expectKernel(input: ExpectInput): Promise<KernelExpectation> {
  let captured: { desired: ReadonlyMap<string, KernelObject>; retainDsts: ReadonlySet<string> } | undefined;
  const loop = new PeerLoop({
    backendType: input.backendType,
    log: silentLogger(),
    own: { subnet: input.own.subnet, ipv6Subnet: input.own.ipv6Subnet },
    objectsFor: input.objectsFor,
    reconciler: {
      reconcile: async (req) => {
        captured = { desired: asMap(req.desired), retainDsts: req.retainDsts ?? new Set() };
        return { observed: false, changes: [], failed: [] };
      },
    },
  });
  const peers = input.leases.filter((l) => l.key !== input.own.key);
  await loop.reconcile(peers, new AbortController().signal, false);
  if (!captured) throw new Error('the agent peer loop asked for no kernel state');
  return { ...captured, ...attribute(peers, input, captured.desired) };
}

/** Who needs each desired object, and which peers the loop skipped and why (the loop only logs that). */
function attribute(peers: readonly Lease[], input: ExpectInput, desired: ReadonlyMap<string, KernelObject>): Pick<KernelExpectation, 'owners' | 'peers' | 'skipped'> {
  const owners = new Map<string, string>();
  const skipped: { lease: string; reason: string }[] = [];
  let count = 0;
  for (const lease of peers) {
    if (lease.attrs.backendType !== input.backendType || equalCidr(lease.subnet, input.own.subnet)) continue;
    count++;
    let found: PeerObjects;
    try {
      found = input.objectsFor(lease);
    } catch (err) {
      skipped.push({ lease: lease.key, reason: err instanceof Error ? err.message : String(err) });
      continue;
    }
    const keys = found.objects.map(objectKey);
    const other = keys.map((k) => owners.get(k)).find((o) => o !== undefined);
    if (other !== undefined || keys.some((k) => !desired.has(k))) {
      skipped.push({ lease: lease.key, reason: `needs kernel objects peer ${other ?? 'another lease'} already has (same VtepMAC or subnet address)` });
      continue;
    }
    for (const k of keys) owners.set(k, lease.key);
    if (found.problems.length > 0) skipped.push({ lease: lease.key, reason: found.problems.map((p) => p.message).join('; ') });
  }
  return { owners, peers: count, skipped };
}

/** Expected vs observed, one item per object that differs, sorted by peer then object key. */
export function kernelDrift(expect: KernelExpectation, observed: ReadonlyMap<string, KernelObject>, leases: readonly Lease[]): KernelDriftItem[] {
  const changes = planChanges({ desired: expect.desired, observed, retainDsts: expect.retainDsts });
  const owner = extraOwner(leases);
  const items = changes.map((c): KernelDriftItem => {
    const key = objectKey(c.object);
    if (c.action === 'delete') return { kind: 'extra', peer: owner(c.object), object: objectJson(c.object), have: null };
    const have = observed.get(key);
    return {
      kind: c.action === 'add' ? 'missing' : 'different',
      peer: expect.owners.get(key) ?? null,
      object: objectJson(c.object),
      have: c.action === 'replace' && have ? objectJson(have) : null,
    };
  });
  return items.sort((a, b) => cmp(a.peer ?? '~', b.peer ?? '~') || cmp(a.object.key, b.object.key));
}

export function objectJson(o: KernelObject): KernelObjectJson {
  return { kind: o.kind, key: objectKey(o), text: describeObject(o) };
}

/** Names the lease an extra object most likely belonged to (a peer whose lease changed), else null. */
function extraOwner(leases: readonly Lease[]): (o: KernelObject) => string | null {
  const byRoute = new Map<string, string>();
  const byGateway = new Map<string, string>();
  const byMac = new Map<string, string>();
  const byUnderlay = new Map<string, string>();
  for (const l of leases) {
    byUnderlay.set(l.attrs.publicIp, l.key);
    if (l.attrs.publicIpv6) byUnderlay.set(l.attrs.publicIpv6, l.key);
    for (const s of [l.subnet, l.ipv6Subnet]) {
      if (!s) continue;
      byRoute.set(prefixText(s), l.key);
      byGateway.set(s.family === 4 ? ipv4Text(s.addr) : formatIp(6, s.addr), l.key);
    }
    for (const data of [l.attrs.backendData, l.attrs.backendV6Data]) {
      const mac = backendField(data, 'VtepMAC');
      if (typeof mac === 'string') byMac.set(mac.toLowerCase(), l.key);
    }
  }
  return (o) => {
    if (o.kind === 'route') return byRoute.get(o.dst) ?? null;
    if (o.kind === 'neigh') return byGateway.get(o.ip) ?? null;
    return byMac.get(o.mac) ?? byUnderlay.get(o.dst) ?? null;
  };
}

function asMap(desired: readonly KernelObject[] | ReadonlyMap<string, KernelObject>): ReadonlyMap<string, KernelObject> {
  if (desired instanceof Map) return desired as ReadonlyMap<string, KernelObject>;
  return new Map((desired as readonly KernelObject[]).map((o) => [objectKey(o), o]));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
