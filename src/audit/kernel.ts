// The kernel half of the audit, pure: which objects this host's agent should
// have for its peers vs which tartan-owned objects the kernel has.
//
// "Should have" is not re-derived here: it is the agent's own desiredKernelState
// (own lease excluded, peers of another BackendType ignored, unusable or clashing
// peers skipped with their working objects retained). The difference is the
// kernel planner's, read as a report instead of a to-do list: add → missing,
// replace → different, delete → extra.
import type { KernelState } from '../agent/kernel-state.ts';
import { type KernelObject, describeObject, ipv4Text, objectKey, planChanges, prefixText } from '../kernel/index.ts';
import { backendField, type Lease } from '../lease/lease.ts';
import { formatIp } from '../net/cidr.ts';
import type { KernelDriftItem, KernelObjectJson } from './report.ts';

/** Expected vs observed, one item per object that differs, sorted by peer then object key. */
export function kernelDrift(expect: Pick<KernelState, 'desired' | 'retainDsts' | 'owners'>, observed: ReadonlyMap<string, KernelObject>, leases: readonly Lease[]): KernelDriftItem[] {
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

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
