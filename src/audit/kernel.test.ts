// Kernel expectation (the agent's own desiredKernelState) vs observed objects, pure and
// table-driven: vxlan peers with synthetic leases, the kernel as a map.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { desiredKernelState } from '../agent/kernel-state.ts';
import { parseNetworkConfig } from '../config/network.ts';
import { type KernelObject, objectKey } from '../kernel/index.ts';
import type { Lease } from '../lease/lease.ts';
import { testLease } from '../lease/testing.ts';
import { kernelDrift } from './kernel.ts';

const mac = (n: number): string => `0e:00:00:00:00:${n.toString(16).padStart(2, '0')}`;
function lease(n: number, over: { mac?: string; type?: string } = {}): Lease {
  return testLease({
    subnet: `10.5.${n}.0/24`, revision: n,
    publicIp: `192.168.0.${n}`, backendType: over.type ?? 'vxlan', backendData: { VNI: 1, VtepMAC: over.mac ?? mac(n) },
  });
}
/** What the agent installs for peer n (fdb, neigh, route). */
function peerObjects(n: number, m = mac(n)): KernelObject[] {
  return [
    { kind: 'fdb', dev: 'flannel.1', mac: m, dst: `192.168.0.${n}` },
    { kind: 'neigh', dev: 'flannel.1', ip: `10.5.${n}.0`, mac: m },
    { kind: 'route', dst: `10.5.${n}.0/24`, via: `10.5.${n}.0`, dev: 'flannel.1', onlink: true },
  ];
}
const keyed = (objects: KernelObject[]): Map<string, KernelObject> => new Map(objects.map((o) => [objectKey(o), o]));
const own = lease(1);
const config = parseNetworkConfig('{"Network":"10.5.0.0/16","Backend":{"Type":"vxlan"}}');

async function run(leases: Lease[], kernel: KernelObject[]) {
  const expect = desiredKernelState({ config, own, host: { dev: 'eth0', networks: [] }, leases });
  return { expect, drift: kernelDrift(expect, keyed(kernel), leases) };
}

describe('kernel drift per peer', () => {
  const stray: KernelObject = { kind: 'route', dst: '10.99.0.0/24', via: '192.168.0.7', dev: 'eth0', onlink: false };
  const cases: { description: string; leases: Lease[]; kernel: KernelObject[]; want: [kind: string, peer: string | null, text: string][]; skipped?: string[] }[] = [
    {
      description: 'clean: every peer has its fdb, neigh and route',
      leases: [own, lease(2), lease(3)],
      kernel: [...peerObjects(2), ...peerObjects(3)],
      want: [],
    },
    {
      description: 'a neigh deleted by hand is missing for its peer',
      leases: [own, lease(2), lease(3)],
      kernel: [...peerObjects(2), ...peerObjects(3).filter((o) => o.kind !== 'neigh')],
      want: [['missing', '10.5.3.0-24', 'neigh 10.5.3.0 lladdr 0e:00:00:00:00:03 dev flannel.1']],
    },
    {
      description: 'a stray route with tartan\'s protocol is extra, owned by no lease',
      leases: [own, lease(2)],
      kernel: [...peerObjects(2), stray],
      want: [['extra', null, 'route 10.99.0.0/24 via 192.168.0.7 dev eth0']],
    },
    {
      description: 'a peer whose VTEP MAC changed: neigh different, old fdb extra, new fdb missing',
      leases: [own, lease(2, { mac: '0e:00:00:00:00:99' })],
      kernel: peerObjects(2),
      want: [
        ['extra', '10.5.2.0-24', 'fdb 0e:00:00:00:00:02 dst 192.168.0.2 dev flannel.1'],
        ['missing', '10.5.2.0-24', 'fdb 0e:00:00:00:00:99 dst 192.168.0.2 dev flannel.1'],
        ['different', '10.5.2.0-24', 'neigh 10.5.2.0 lladdr 0e:00:00:00:00:99 dev flannel.1'],
      ],
    },
    {
      description: 'objects of a peer whose lease is gone are extra',
      leases: [own, lease(2)],
      kernel: [...peerObjects(2), ...peerObjects(4)],
      want: [
        ['extra', null, 'fdb 0e:00:00:00:00:04 dst 192.168.0.4 dev flannel.1'],
        ['extra', null, 'neigh 10.5.4.0 lladdr 0e:00:00:00:00:04 dev flannel.1'],
        ['extra', null, 'route 10.5.4.0/24 via 10.5.4.0 dev flannel.1 onlink'],
      ],
    },
    {
      description: 'own lease and peers of another BackendType need nothing',
      leases: [own, lease(2), lease(3, { type: 'host-gw' })],
      kernel: peerObjects(2),
      want: [],
    },
    {
      description: 'a peer with an unusable VtepMAC: the agent keeps its working objects (fail static), so they are not extra',
      leases: [own, lease(2), lease(3, { mac: 'not-a-mac' })],
      kernel: [...peerObjects(2), ...peerObjects(3)],
      want: [],
      skipped: ['10.5.3.0-24'],
    },
    {
      description: 'two peers with one VtepMAC: the second is skipped, as the agent does',
      leases: [own, lease(2), lease(3, { mac: mac(2) })],
      kernel: peerObjects(2),
      want: [],
      skipped: ['10.5.3.0-24'],
    },
  ];
  for (const c of cases) {
    test(c.description, async () => {
      const { expect, drift } = await run(c.leases, c.kernel);
      assert.deepEqual(drift.map((d) => [d.kind, d.peer, d.object.text]), c.want);
      assert.deepEqual(expect.skipped.map((s) => s.lease), c.skipped ?? []);
    });
  }

  test('a different object reports what the kernel has instead', async () => {
    const wrong = peerObjects(2).map((o) => (o.kind === 'route' ? { ...o, via: '10.5.2.9' } : o));
    const { drift } = await run([own, lease(2)], wrong);
    assert.deepEqual(drift.map((d) => [d.kind, d.object.key, d.have?.text]), [['different', 'route 10.5.2.0/24', 'route 10.5.2.0/24 via 10.5.2.9 dev flannel.1 onlink']]);
  });
});
