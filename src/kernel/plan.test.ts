import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { type KernelObject, objectKey } from './objects.ts';
import { type Change, countChanges, planChanges } from './plan.ts';

const route = (dst: string, via: string, dev = 'flannel.1', onlink = true, metric?: number): KernelObject =>
  ({ kind: 'route', dst, via, dev, onlink, metric });
const neigh = (ip: string, mac: string, dev = 'flannel.1'): KernelObject => ({ kind: 'neigh', dev, ip, mac });
const fdb = (mac: string, dst: string, dev = 'flannel.1'): KernelObject => ({ kind: 'fdb', dev, mac, dst });

/** The three objects a vxlan peer needs. */
const vxlanPeer = (n: number, mac = `0e:00:00:00:00:0${n}`, publicIp = `192.168.1.${n}`): KernelObject[] => [
  fdb(mac, publicIp), neigh(`10.5.${n}.0`, mac), route(`10.5.${n}.0/24`, `10.5.${n}.0`),
];

const byKey = (objects: readonly KernelObject[]): Map<string, KernelObject> => new Map(objects.map((o) => [objectKey(o), o]));
const show = (changes: readonly Change[]): string[] => changes.map((c) => `${c.action} ${objectKey(c.object)}`);

interface Case {
  readonly description: string;
  readonly desired: readonly KernelObject[];
  readonly observed: readonly KernelObject[];
  readonly retain?: readonly string[];
  readonly want: readonly string[];
}

const cases: Case[] = [
  {
    description: 'nothing desired, nothing owned: no changes',
    desired: [], observed: [], want: [],
  },
  {
    description: 'a new peer: fdb, then neigh, then route (the route never points at a missing neighbour)',
    desired: vxlanPeer(2), observed: [],
    want: ['add fdb flannel.1 0e:00:00:00:00:02', 'add neigh flannel.1 10.5.2.0', 'add route 10.5.2.0/24'],
  },
  {
    description: 'everything already right: no changes (a restart re-creates nothing)',
    desired: [...vxlanPeer(2), ...vxlanPeer(3)], observed: [...vxlanPeer(3), ...vxlanPeer(2)], want: [],
  },
  {
    description: 'a peer left: route first, then neigh, then fdb',
    desired: vxlanPeer(2), observed: [...vxlanPeer(2), ...vxlanPeer(3)],
    want: ['delete route 10.5.3.0/24', 'delete neigh flannel.1 10.5.3.0', 'delete fdb flannel.1 0e:00:00:00:00:03'],
  },
  {
    description: 'a peer came back with a new VTEP MAC: new fdb and neigh replace, the stale fdb goes last',
    desired: vxlanPeer(2, '0e:00:00:00:00:aa'), observed: vxlanPeer(2),
    want: ['add fdb flannel.1 0e:00:00:00:00:aa', 'replace neigh flannel.1 10.5.2.0', 'delete fdb flannel.1 0e:00:00:00:00:02'],
  },
  {
    description: 'a peer moved its PublicIP: only the fdb entry is replaced',
    desired: vxlanPeer(2, undefined, '192.168.9.9'), observed: vxlanPeer(2),
    want: ['replace fdb flannel.1 0e:00:00:00:00:02'],
  },
  {
    description: 'a peer moved from vxlan to a direct route: the route is replaced before its neigh and fdb go',
    desired: [route('10.5.2.0/24', '192.168.1.2', 'eth0', false)], observed: vxlanPeer(2),
    want: ['replace route 10.5.2.0/24', 'delete neigh flannel.1 10.5.2.0', 'delete fdb flannel.1 0e:00:00:00:00:02'],
  },
  {
    description: 'a peer moved from a direct route to vxlan: fdb and neigh exist before the route is replaced',
    desired: vxlanPeer(2), observed: [route('10.5.2.0/24', '192.168.1.2', 'eth0', false)],
    want: ['add fdb flannel.1 0e:00:00:00:00:02', 'add neigh flannel.1 10.5.2.0', 'replace route 10.5.2.0/24'],
  },
  {
    description: 'adds come before deletes even across peers',
    desired: vxlanPeer(4), observed: vxlanPeer(3),
    want: [
      'add fdb flannel.1 0e:00:00:00:00:04', 'add neigh flannel.1 10.5.4.0', 'add route 10.5.4.0/24',
      'delete route 10.5.3.0/24', 'delete neigh flannel.1 10.5.3.0', 'delete fdb flannel.1 0e:00:00:00:00:03',
    ],
  },
  {
    description: 'an owned route with a non-default metric is not ours to keep: the default-metric route is added, it is deleted',
    desired: [route('10.5.2.0/24', '10.5.2.0')], observed: [route('10.5.2.0/24', '10.5.2.0', 'flannel.1', true, 7)],
    want: ['add route 10.5.2.0/24', 'delete route 10.5.2.0/24 metric 7'],
  },
  {
    description: 'an unreadable lease keeps its working route, neigh and fdb (fail static); others still change',
    desired: vxlanPeer(4), observed: [...vxlanPeer(2), ...vxlanPeer(3)], retain: ['10.5.2.0/24'],
    want: [
      'add fdb flannel.1 0e:00:00:00:00:04', 'add neigh flannel.1 10.5.4.0', 'add route 10.5.4.0/24',
      'delete route 10.5.3.0/24', 'delete neigh flannel.1 10.5.3.0', 'delete fdb flannel.1 0e:00:00:00:00:03',
    ],
  },
  {
    description: 'retaining a destination that has nothing installed retains nothing',
    desired: [], observed: vxlanPeer(3), retain: ['10.5.2.0/24'],
    want: ['delete route 10.5.3.0/24', 'delete neigh flannel.1 10.5.3.0', 'delete fdb flannel.1 0e:00:00:00:00:03'],
  },
  {
    description: 'a desired object listed twice is planned once (the first wins)',
    desired: [route('10.5.2.0/24', '192.168.1.2', 'eth0', false), route('10.5.2.0/24', '192.168.1.9', 'eth0', false)],
    observed: [], want: ['add route 10.5.2.0/24'],
  },
  {
    description: 'IPv6 objects plan the same way',
    desired: [fdb('0e:00:00:00:00:12', 'fd00::2', 'flannel-v6.1'), neigh('fd42:0:0:2::', '0e:00:00:00:00:12', 'flannel-v6.1'),
      route('fd42:0:0:2::/64', 'fd42:0:0:2::', 'flannel-v6.1')],
    observed: [],
    want: ['add fdb flannel-v6.1 0e:00:00:00:00:12', 'add neigh flannel-v6.1 fd42:0:0:2::', 'add route fd42:0:0:2::/64'],
  },
];

describe('planChanges', () => {
  for (const c of cases) {
    it(c.description, () => {
      const changes = planChanges({ desired: c.desired, observed: byKey(c.observed), retainDsts: c.retain ? new Set(c.retain) : undefined });
      assert.deepEqual(show(changes), c.want);
    });
  }

  it('with a scope, only those keys are planned (a lease event): the rest is not looked at', () => {
    const observed = byKey([...vxlanPeer(2), ...vxlanPeer(3)]);
    const desired = byKey([...vxlanPeer(2, '0e:00:00:00:00:aa'), ...vxlanPeer(4)]);
    const scope = new Set(vxlanPeer(4).map(objectKey));
    assert.deepEqual(show(planChanges({ desired, observed, scope })),
      ['add fdb flannel.1 0e:00:00:00:00:04', 'add neigh flannel.1 10.5.4.0', 'add route 10.5.4.0/24']);
  });

  it('a scope key that is neither desired nor observed plans nothing; an observed-only one is deleted', () => {
    const observed = byKey(vxlanPeer(3));
    const scope = new Set(['route 10.9.9.0/24', 'route 10.5.3.0/24']);
    assert.deepEqual(show(planChanges({ desired: new Map(), observed, scope })), ['delete route 10.5.3.0/24']);
  });

  it('the scoped plan of a key equals the full plan restricted to it', () => {
    const observed = byKey([...vxlanPeer(2), ...vxlanPeer(3), route('10.5.5.0/24', '192.168.1.5', 'eth0', false)]);
    const desired = byKey([...vxlanPeer(2, '0e:00:00:00:00:aa'), ...vxlanPeer(4), route('10.5.5.0/24', '10.5.5.0')]);
    const full = show(planChanges({ desired, observed }));
    const all = new Set([...desired.keys(), ...observed.keys()]);
    assert.deepEqual(show(planChanges({ desired, observed, scope: all })), full);
  });

  it('a replace carries the desired object, a delete the observed one', () => {
    const desired = route('10.5.2.0/24', '192.168.1.2', 'eth0', false);
    const changes = planChanges({ desired: [desired], observed: byKey([...vxlanPeer(2), ...vxlanPeer(3)]) });
    assert.equal(changes[0]!.object, desired);
    assert.deepEqual(changes.at(-1)!.object, vxlanPeer(3)[0]);
    assert.deepEqual(countChanges(changes), { add: 0, replace: 1, delete: 5 });
  });
});
