import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Lease } from '../../lease/lease.ts';
import { testLease } from '../../lease/testing.ts';
import { parseCidr } from '../../net/cidr.ts';
import { describeObject } from '../../kernel/index.ts';
import { type VxlanPeerContext, vxlanBackendData, vxlanPeerObjects } from './vxlan-peer.ts';

function lease(over: Partial<Lease['attrs']> = {}, dual = false): Lease {
  return testLease({
    subnet: '10.5.2.0/24', ipv6Subnet: dual ? 'fd00:5:0:2::/64' : undefined,
    publicIp: '192.168.1.2', publicIpv6: dual ? 'fd00::2' : undefined,
    backendData: { VNI: 1, VtepMAC: '8E:5A:0D:07:0F:0D' },
    backendV6Data: dual ? { VNI: 1, VtepMAC: '8e:5a:0d:07:0f:6d' } : undefined,
    ...over,
  });
}

const v4: VxlanPeerContext = { v4: { device: 'flannel.1' } };
const dual: VxlanPeerContext = { v4: { device: 'flannel.1' }, v6: { device: 'flannel-v6.1' } };
const direct: VxlanPeerContext = { ...v4, direct: { dev: 'eth0', networks: [parseCidr('192.168.1.0/24')] } };

describe('vxlanPeerObjects', () => {
  const cases: Array<{ description: string; lease: Lease; ctx: VxlanPeerContext; want: string[]; problems?: string[] }> = [
    {
      description: 'flannel\'s three objects: fdb, permanent neigh, onlink route via the subnet address (MAC lower-cased)',
      lease: lease(), ctx: v4,
      want: [
        'fdb 8e:5a:0d:07:0f:0d dst 192.168.1.2 dev flannel.1',
        'neigh 10.5.2.0 lladdr 8e:5a:0d:07:0f:0d dev flannel.1',
        'route 10.5.2.0/24 via 10.5.2.0 dev flannel.1 onlink',
      ],
    },
    {
      description: 'DirectRouting, peer on a connected network: one plain route via its PublicIP',
      lease: lease(), ctx: direct, want: ['route 10.5.2.0/24 via 192.168.1.2 dev eth0'],
    },
    {
      description: 'DirectRouting, peer behind a router: vxlan as usual',
      lease: lease({ publicIp: '192.168.7.2' }), ctx: direct,
      want: [
        'fdb 8e:5a:0d:07:0f:0d dst 192.168.7.2 dev flannel.1',
        'neigh 10.5.2.0 lladdr 8e:5a:0d:07:0f:0d dev flannel.1',
        'route 10.5.2.0/24 via 10.5.2.0 dev flannel.1 onlink',
      ],
    },
    {
      description: 'dual-stack: the same objects again on flannel-v6.<VNI> from BackendV6Data and PublicIPv6',
      lease: lease({}, true), ctx: dual,
      want: [
        'fdb 8e:5a:0d:07:0f:0d dst 192.168.1.2 dev flannel.1',
        'neigh 10.5.2.0 lladdr 8e:5a:0d:07:0f:0d dev flannel.1',
        'route 10.5.2.0/24 via 10.5.2.0 dev flannel.1 onlink',
        'fdb 8e:5a:0d:07:0f:6d dst fd00::2 dev flannel-v6.1',
        'neigh fd00:5:0:2:: lladdr 8e:5a:0d:07:0f:6d dev flannel-v6.1',
        'route fd00:5:0:2::/64 via fd00:5:0:2:: dev flannel-v6.1 onlink',
      ],
    },
    {
      description: 'missing VtepMAC: no objects, a problem naming the lease and the field',
      lease: lease({ backendData: { VNI: 1 } }), ctx: v4, want: [],
      problems: ['lease 10.5.2.0-24.BackendData.VtepMAC'],
    },
    {
      description: 'a VtepMAC that is not a MAC',
      lease: lease({ backendData: { VNI: 1, VtepMAC: 'zz:5a:0d:07:0f:0d' } }), ctx: v4, want: [],
      problems: ['lease 10.5.2.0-24.BackendData.VtepMAC'],
    },
    {
      description: 'a multicast VtepMAC',
      lease: lease({ backendData: { VtepMAC: '01:00:5e:00:00:01' } }), ctx: v4, want: [],
      problems: ['lease 10.5.2.0-24.BackendData.VtepMAC'],
    },
    {
      description: 'BackendData not an object',
      lease: lease({ backendData: 'oops' }), ctx: v4, want: [],
      problems: ['lease 10.5.2.0-24.BackendData.VtepMAC'],
    },
    {
      description: 'dual-stack with bad BackendV6Data: v4 still works, v6 is a problem',
      lease: lease({ backendV6Data: null }, true), ctx: dual,
      want: [
        'fdb 8e:5a:0d:07:0f:0d dst 192.168.1.2 dev flannel.1',
        'neigh 10.5.2.0 lladdr 8e:5a:0d:07:0f:0d dev flannel.1',
        'route 10.5.2.0/24 via 10.5.2.0 dev flannel.1 onlink',
      ],
      problems: ['lease 10.5.2.0-24&fd00:5:0:2::-64.BackendV6Data.VtepMAC'],
    },
    {
      description: 'dual-stack peer without PublicIPv6',
      lease: lease({ publicIpv6: undefined }, true), ctx: dual,
      want: [
        'fdb 8e:5a:0d:07:0f:0d dst 192.168.1.2 dev flannel.1',
        'neigh 10.5.2.0 lladdr 8e:5a:0d:07:0f:0d dev flannel.1',
        'route 10.5.2.0/24 via 10.5.2.0 dev flannel.1 onlink',
      ],
      problems: ['lease 10.5.2.0-24&fd00:5:0:2::-64.PublicIPv6'],
    },
    {
      description: 'a v4-only peer in a dual-stack network: v4 objects, no problem',
      lease: lease(), ctx: dual,
      want: [
        'fdb 8e:5a:0d:07:0f:0d dst 192.168.1.2 dev flannel.1',
        'neigh 10.5.2.0 lladdr 8e:5a:0d:07:0f:0d dev flannel.1',
        'route 10.5.2.0/24 via 10.5.2.0 dev flannel.1 onlink',
      ],
    },
  ];
  for (const c of cases) {
    it(c.description, () => {
      const got = vxlanPeerObjects(c.lease, c.ctx);
      assert.deepEqual(got.objects.map(describeObject), c.want);
      assert.deepEqual(got.problems.map((p) => p.field), c.problems ?? []);
    });
  }
});

describe('vxlanBackendData', () => {
  it('is exactly flannel\'s {"VNI":1,"VtepMAC":"…"}', () => {
    assert.equal(JSON.stringify(vxlanBackendData(1, '8e:5a:0d:07:0f:0d')), '{"VNI":1,"VtepMAC":"8e:5a:0d:07:0f:0d"}');
  });
});
