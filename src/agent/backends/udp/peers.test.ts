import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { testLease } from '../../../lease/testing.ts';
import { parseCidr } from '../../../net/cidr.ts';
import { PeerTable, udpPeers } from './peers.ts';

const ip = (text: string): number => text.split('.').reduce((n, o) => n * 256 + Number(o), 0);
const own = { subnet: parseCidr('10.5.1.0/24') };

describe('udpPeers', () => {
  const cases: Array<{ description: string; backendType: string; subnet?: string; publicIp?: string; want: 'peer' | 'other' | 'own' | 'problem' }> = [
    { description: 'BackendType "" (what flannel publishes for udp): a peer', backendType: '', want: 'peer' },
    { description: 'BackendType "udp": a peer', backendType: 'udp', want: 'peer' },
    { description: 'vxlan: ignored', backendType: 'vxlan', want: 'other' },
    { description: 'host-gw: ignored', backendType: 'host-gw', want: 'other' },
    { description: 'this host\'s own lease: never a peer', backendType: '', subnet: '10.5.1.0/24', want: 'own' },
    { description: 'an unreadable PublicIP: a problem naming the lease field', backendType: '', publicIp: '', want: 'problem' },
  ];
  for (const c of cases) {
    it(c.description, () => {
      const lease = testLease({ subnet: c.subnet ?? '10.5.2.0/24', publicIp: c.publicIp ?? '192.168.1.2', backendType: c.backendType });
      const got = udpPeers([lease], own);
      const kind = got.peers.length === 1 ? 'peer' : got.otherType.length === 1 ? 'other' : got.problems.length === 1 ? 'problem' : 'own';
      assert.equal(kind, c.want);
      if (kind === 'peer') assert.deepEqual(got.peers[0], { key: '10.5.2.0-24', network: ip('10.5.2.0'), prefix: 24, address: '192.168.1.2' });
      if (kind === 'problem') assert.match(got.problems[0]!.field, /^lease 10\.5\.2\.0-24\.PublicIP$/);
    });
  }
});

describe('PeerTable', () => {
  const table = new PeerTable();
  table.set([
    { key: 'a', network: ip('10.5.2.0'), prefix: 24, address: '192.168.1.2' },
    { key: 'b', network: ip('10.5.3.0'), prefix: 24, address: '192.168.1.3' },
    { key: 'c', network: ip('10.6.0.0'), prefix: 16, address: '192.168.1.4' },
    { key: 'd', network: ip('10.6.7.0'), prefix: 26, address: '192.168.1.5' },
  ]);
  const cases: Array<{ description: string; dst: string; want: string | undefined }> = [
    { description: 'inside a /24 lease', dst: '10.5.2.77', want: '192.168.1.2' },
    { description: 'the network address of a lease', dst: '10.5.3.0', want: '192.168.1.3' },
    { description: 'the broadcast address of a lease', dst: '10.5.3.255', want: '192.168.1.3' },
    { description: 'no lease holds it', dst: '10.5.4.1', want: undefined },
    { description: 'longest prefix wins', dst: '10.6.7.10', want: '192.168.1.5' },
    { description: 'the shorter prefix outside the longer', dst: '10.6.7.200', want: '192.168.1.4' },
    { description: 'top bit set (unsigned arithmetic)', dst: '250.0.0.1', want: undefined },
  ];
  for (const c of cases) it(c.description, () => assert.equal(table.lookup(ip(c.dst)), c.want));

  it('set() replaces the whole table at once (a removed lease is gone)', () => {
    const t = new PeerTable();
    t.set([{ key: 'a', network: ip('10.5.2.0'), prefix: 24, address: '192.168.1.2' }]);
    assert.equal(t.lookup(ip('10.5.2.1')), '192.168.1.2');
    t.set([]);
    assert.equal(t.lookup(ip('10.5.2.1')), undefined);
    assert.equal(t.size, 0);
  });
});
