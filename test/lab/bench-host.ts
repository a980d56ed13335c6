// A single "host" namespace for kernel benches: eth0 (one end of a veth pair whose
// other end stays in the namespace) with 192.168.0.1/16, and synthetic peer leases.
import type { ExternalInterface } from '../../src/agent/backend.ts';
import type { Lease } from '../../src/lease/lease.ts';
import { testLease } from '../../src/lease/testing.ts';
import { getLink } from '../../src/kernel/index.ts';
import { createNamespace, deleteNamespace, ipBatch, labId } from './netns.ts';

export interface BenchHost {
  readonly ns: string;
  readonly iface: ExternalInterface;
  destroy(): Promise<void>;
}

export async function createBenchHost(label: string): Promise<BenchHost> {
  const ns = `tt-${labId()}-${label}`;
  await createNamespace(ns);
  try {
    await ipBatch(ns, [
      'link set lo up', 'link add eth0 type veth peer name eth0p', 'address add 192.168.0.1/16 dev eth0',
      'link set eth0 up', 'link set eth0p up',
    ]);
    const link = await getLink('eth0', { netns: ns });
    return {
      ns,
      iface: { name: 'eth0', index: link!.index, mtu: link!.mtu, ipv4: '192.168.0.1', publicIp: '192.168.0.1' },
      destroy: () => deleteNamespace(ns),
    };
  } catch (err) {
    await deleteNamespace(ns);
    throw err;
  }
}

/** Peer i (0-based): subnet 10.<1+i/256>.<i%256>.0/24, PublicIP 192.168.<1+i/250>.<1+i%250>, a distinct VTEP MAC. */
export function syntheticPeer(i: number): Lease {
  const a = 1 + (i >> 8);
  const b = i & 255;
  const mac = `0e:${[i >> 16, (i >> 8) & 255, i & 255, 0xaa].map((x) => x.toString(16).padStart(2, '0')).join(':')}:01`;
  return testLease({
    subnet: { family: 4, addr: BigInt((10 << 24) >>> 0) + BigInt(a * 65536 + b * 256), prefix: 24 },
    publicIp: `192.168.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`,
    backendData: { VNI: 1, VtepMAC: mac },
    expiresAt: Date.now() + 86_400_000,
    revision: i + 1,
  });
}

/** The raw batch lines (`bridge -batch`, then `ip -batch`) for exactly the objects tartan installs for these peers. */
export function rawVxlanBatches(peers: readonly Lease[]): { bridge: string; ip: string } {
  const fdb: string[] = [];
  const neigh: string[] = [];
  const route: string[] = [];
  for (const p of peers) {
    const mac = (p.attrs.backendData as { VtepMAC: string }).VtepMAC;
    const gw = p.key.slice(0, p.key.indexOf('-'));
    fdb.push(`fdb replace ${mac} dev flannel.1 dst ${p.attrs.publicIp} self permanent`);
    neigh.push(`neigh replace ${gw} lladdr ${mac} dev flannel.1 nud permanent`);
    route.push(`route replace ${gw}/24 via ${gw} dev flannel.1 onlink proto 116`);
  }
  return { bridge: fdb.join('\n') + '\n', ip: [...neigh, ...route].join('\n') + '\n' };
}
