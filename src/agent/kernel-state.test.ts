// The agent (PeerLoop, incremental) and `tartan audit --kernel` (desiredKernelState,
// one shot) must want the same kernel objects for the same leases.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseNetworkConfig } from '../config/network.ts';
import type { KernelObject, KernelReconciler } from '../kernel/index.ts';
import type { Lease } from '../lease/lease.ts';
import { parseCidr } from '../net/cidr.ts';
import { silentLogger } from '../observe/log.ts';
import { peerObjectsFor } from './backends/peer-objects.ts';
import { PeerLoop } from './backends/peer-loop.ts';
import { desiredKernelState } from './kernel-state.ts';

const config = parseNetworkConfig('{"EnableIPv6":true,"Network":"10.5.0.0/16","IPv6Network":"fd00:5::/48","Backend":{"Type":"vxlan"}}');
const host = { dev: 'eth0', networks: [parseCidr('192.168.0.0/24')] };

function lease(v4: number, v6: number, over: Partial<Lease['attrs']> = {}): Lease {
  return {
    key: `10.5.${v4}.0-24&fd00:5:0:${v6}::-64`,
    subnet: parseCidr(`10.5.${v4}.0/24`),
    ipv6Subnet: parseCidr(`fd00:5:0:${v6}::/64`),
    attrs: {
      publicIp: `192.168.0.${v4}`, publicIpv6: `fd00::${v4}`, backendType: 'vxlan',
      backendData: { VNI: 1, VtepMAC: `0e:00:00:00:00:${v4.toString(16).padStart(2, '0')}` },
      backendV6Data: { VNI: 1, VtepMAC: `0e:00:00:00:01:${v4.toString(16).padStart(2, '0')}` },
      ...over,
    },
    reservation: false,
    revision: v4,
  };
}

/** What the agent's PeerLoop asks the kernel for, given the same leases. */
async function agentWants(own: Lease, leases: readonly Lease[]): Promise<{ desired: Map<string, KernelObject>; retain: Set<string> }> {
  let seen: Parameters<KernelReconciler['reconcile']>[0] | undefined;
  const loop = new PeerLoop({
    backendType: 'vxlan', log: silentLogger(), own, objectsFor: peerObjectsFor(config, host),
    reconciler: { reconcile: async (req) => ((seen = req), { observed: false, changes: [], failed: [], deferred: 0 }) },
  });
  await loop.reconcile(leases.filter((l) => l.key !== own.key), new AbortController().signal, false);
  assert.ok(seen);
  return { desired: new Map(seen.desired as ReadonlyMap<string, KernelObject>), retain: new Set(seen.retainDsts) };
}

describe('desired kernel state: agent and audit agree', () => {
  const own = lease(1, 1);
  const cases: { description: string; leases: Lease[]; objects: number; skipped: string[] }[] = [
    { description: 'a lease with this host\'s IPv6 subnet (another IPv4 one) is the own lease, not a peer', leases: [own, lease(9, 1), lease(2, 2)], objects: 6, skipped: [] },
    {
      description: 'another BackendType, a broken VtepMAC and a clashing MAC: the same skips and retains',
      leases: [
        own, lease(2, 2), lease(3, 3, { backendType: 'host-gw' }), lease(4, 4, { backendData: { VNI: 1, VtepMAC: 'ff:ff:ff:ff:ff:ff' } }),
        lease(5, 5, { backendData: { VNI: 1, VtepMAC: '0e:00:00:00:00:02' } }),
      ],
      objects: 6 + 3, // lease 2 whole; lease 4's IPv6 half (its IPv4 MAC is broadcast)
      skipped: ['10.5.4.0-24&fd00:5:0:4::-64', '10.5.5.0-24&fd00:5:0:5::-64'],
    },
  ];
  for (const c of cases) {
    it(c.description, async () => {
      const audit = desiredKernelState({ config, own, host, leases: c.leases });
      const agent = await agentWants(own, c.leases);
      assert.deepEqual(new Map(audit.desired), agent.desired);
      assert.deepEqual(new Set(audit.retainDsts), agent.retain);
      assert.equal(audit.desired.size, c.objects);
      assert.deepEqual(audit.skipped.map((s) => s.lease), c.skipped);
      for (const o of audit.desired.values()) assert.ok(!('dst' in o && o.dst.startsWith('fd00:5:0:1:')), `own IPv6 subnet routed: ${JSON.stringify(o)}`);
    });
  }

  it('hybrid: a peer the VPC routes needs nothing in the kernel', () => {
    const withDomain = (l: Lease): Lease => ({ ...l, attrs: { ...l.attrs, backendData: { ...(l.attrs.backendData as object), RouteDomain: 'aws:vpc-1' } } });
    const peers = [withDomain(lease(2, 2)), withDomain(lease(3, 3))];
    const status = new Map([[peers[0]!.key, { state: 'programmed' as const, tables: { 'rtb-1': 'programmed' as const } }]]);
    const state = desiredKernelState({ config, own, host, leases: [own, ...peers], hybrid: { routeDomain: 'aws:vpc-1', status } });
    assert.equal(state.cloudRouted, 1);
    assert.equal(state.peers, 1);
    assert.equal(state.desired.size, 6);
  });
});
