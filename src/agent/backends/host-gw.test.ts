import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Lease } from '../../lease/lease.ts';
import { testLease } from '../../lease/testing.ts';
import { parseCidr } from '../../net/cidr.ts';
import { describeObject } from '../../kernel/index.ts';
import { type HostGwPeerContext, hostGwPeerObjects } from './host-gw-peer.ts';

const lease = (publicIp: string, publicIpv6?: string): Lease =>
  testLease({ subnet: '10.5.2.0/24', ipv6Subnet: publicIpv6 ? 'fd00:5:0:2::/64' : undefined, publicIp, publicIpv6, backendType: 'host-gw' });

const ctx = (families: Array<4 | 6>): HostGwPeerContext => ({
  families, dev: 'eth0', networks: [parseCidr('192.168.1.0/24'), parseCidr('fd00::/64')], networksText: '192.168.1.0/24, fd00::/64',
});

describe('hostGwPeerObjects', () => {
  const cases: Array<{ description: string; lease: Lease; families: Array<4 | 6>; want: string[]; problems?: string[] }> = [
    { description: 'a route via the peer\'s PublicIP on the external link', lease: lease('192.168.1.2'), families: [4],
      want: ['route 10.5.2.0/24 via 192.168.1.2 dev eth0'] },
    { description: 'dual-stack: one route per family', lease: lease('192.168.1.2', 'fd00::2'), families: [4, 6],
      want: ['route 10.5.2.0/24 via 192.168.1.2 dev eth0', 'route fd00:5:0:2::/64 via fd00::2 dev eth0'] },
    { description: 'a peer behind a router: no route, a problem naming the lease key and PublicIP', lease: lease('192.168.7.2'), families: [4],
      want: [], problems: ['lease 10.5.2.0-24.PublicIP'] },
    { description: 'dual-stack, v6 not connected: v4 route still made', lease: lease('192.168.1.2', 'fd01::2'), families: [4, 6],
      want: ['route 10.5.2.0/24 via 192.168.1.2 dev eth0'], problems: ['lease 10.5.2.0-24&fd00:5:0:2::-64.PublicIPv6'] },
  ];
  for (const c of cases) {
    it(c.description, () => {
      const got = hostGwPeerObjects(c.lease, ctx(c.families));
      assert.deepEqual(got.objects.map(describeObject), c.want);
      assert.deepEqual(got.problems.map((p) => p.field), c.problems ?? []);
    });
  }

  it('the problem says why and what to do instead', () => {
    const [problem] = hostGwPeerObjects(lease('192.168.7.2'), ctx([4])).problems;
    assert.match(problem!.message, /^lease 10\.5\.2\.0-24\.PublicIP: is not on a network directly connected to eth0 \(192\.168\.1\.0\/24, fd00::\/64\).*vxlan.*\(got "192\.168\.7\.2"\)$/);
  });
});
