// The lease validator: every hostile record the issue lists (and its IPv6 twin),
// each refused with its reason; a property test over random keys and values.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseNetworkConfig } from '../config/network.ts';
import { contains, parseCidr } from '../net/cidr.ts';
import { type Lease, decodeLeaseAttrs, parseSubnetKey } from './lease.ts';
import { type InvalidReason, LeaseValidator, readerAddress } from './validate.ts';

const config = parseNetworkConfig(JSON.stringify({
  Network: '100.96.0.0/16', EnableIPv6: true, IPv6Network: 'fd00:96::/48', IPv6SubnetLen: 64, Backend: { Type: 'vxlan' },
}));
const MAC = (n: number): string => `0e:00:00:00:00:${n.toString(16).padStart(2, '0')}`;

/** A lease exactly as the etcd store builds one from a key and a JSON value. */
function stored(key: string, value: Record<string, unknown>, createdRevision = 10): Lease {
  const { subnet, ipv6Subnet } = parseSubnetKey(key);
  return { key, subnet, ipv6Subnet, attrs: decodeLeaseAttrs(key, JSON.stringify(value)), reservation: false, revision: createdRevision, createdRevision };
}
const vx = (ip: string, mac = MAC(9), extra: Record<string, unknown> = {}): Record<string, unknown> =>
  ({ PublicIP: ip, BackendType: 'vxlan', BackendData: { VNI: 1, VtepMAC: mac }, ...extra });
const vx6 = (ip: string, ip6: string, mac = MAC(9)): Record<string, unknown> =>
  ({ ...vx(ip, mac), PublicIPv6: ip6, BackendV6Data: { VNI: 1, VtepMAC: mac } });

// The reading host: 198.18.0.10 on 198.18.0.0/24, lease 100.96.1.0/24.
const OWN = '100.96.1.0-24&fd00:96:0:1::-64';
const reader = {
  ownKey: OWN,
  addresses: new Set(['198.18.0.10', 'fd00:18::10'].map(readerAddress)),
  underlay: [parseCidr('198.18.0.0/24'), parseCidr('fd00:18::/64')],
};
const own = stored(OWN, vx6('198.18.0.10', 'fd00:18::10', MAC(1)), 5);
const good = stored('100.96.2.0-24&fd00:96:0:2::-64', vx6('198.18.0.20', 'fd00:18::20', MAC(2)), 6);

describe('lease validator: the hostile set', () => {
  const cases: { description: string; lease: Lease; reason: InvalidReason }[] = [
    { description: 'the hosts\' own underlay CIDR', lease: stored('198.18.0.0-24', vx('198.18.0.30')), reason: 'outside-network' },
    { description: 'the underlay CIDR, IPv6 twin', lease: stored('100.96.3.0-24&fd00:18::-64', vx6('198.18.0.30', 'fd00:18::30')), reason: 'outside-network' },
    { description: 'a default route under host-gw', lease: stored('0.0.0.0-0', { PublicIP: '198.18.0.66', BackendType: 'host-gw' }), reason: 'prefix-length' },
    { description: 'the whole Network', lease: stored('100.96.0.0-16', vx('198.18.0.30')), reason: 'prefix-length' },
    { description: 'the whole IPv6Network', lease: stored('100.96.3.0-24&fd00:96::-48', vx6('198.18.0.30', 'fd00:18::30')), reason: 'prefix-length' },
    { description: 'half of the reader\'s own subnet', lease: stored('100.96.1.128-25', vx('198.18.0.30')), reason: 'prefix-length' },
    { description: 'a /23 and a /32 inside the Network', lease: stored('100.96.120.0-23', vx('198.18.0.30')), reason: 'prefix-length' },
    { description: 'a /32', lease: stored('100.96.130.7-32', vx('198.18.0.30')), reason: 'prefix-length' },
    { description: 'leading zeros read as octal (050 → 40)', lease: stored('100.96.050.0-24', vx('198.18.0.30')), reason: 'key' },
    { description: 'leading zeros (0140)', lease: stored('100.96.0140.0-24', vx('198.18.0.30')), reason: 'key' },
    { description: 'an IPv6 key not in flannel\'s form', lease: stored('100.96.3.0-24&FD00:96:0:3:0::-64', vx6('198.18.0.30', 'fd00:18::30')), reason: 'key' },
    { description: 'a /24 outside the Network', lease: stored('10.1.2.0-24', vx('198.18.0.30')), reason: 'outside-network' },
    { description: 'PublicIP 127.0.0.1', lease: stored('100.96.4.0-24', vx('127.0.0.1')), reason: 'public-ip' },
    { description: 'PublicIPv6 ::1', lease: stored('100.96.4.0-24&fd00:96:0:4::-64', vx6('198.18.0.40', '::1')), reason: 'public-ip' },
    { description: 'PublicIP 0.0.0.0', lease: stored('100.96.4.0-24', vx('0.0.0.0')), reason: 'public-ip' },
    { description: 'PublicIP multicast', lease: stored('100.96.4.0-24', vx('239.1.1.1')), reason: 'public-ip' },
    { description: 'PublicIPv6 multicast', lease: stored('100.96.4.0-24&fd00:96:0:4::-64', vx6('198.18.0.40', 'ff02::1')), reason: 'public-ip' },
    { description: 'PublicIP broadcast', lease: stored('100.96.4.0-24', vx('255.255.255.255')), reason: 'public-ip' },
    { description: 'PublicIP link-local', lease: stored('100.96.4.0-24', vx('169.254.169.254')), reason: 'public-ip' },
    { description: 'PublicIPv6 link-local', lease: stored('100.96.4.0-24&fd00:96:0:4::-64', vx6('198.18.0.40', 'fe80::1')), reason: 'public-ip' },
    { description: 'the reader\'s own address on another subnet', lease: stored('100.96.4.0-24', vx('198.18.0.10')), reason: 'own-address' },
    { description: 'the reader\'s own IPv6 address on another subnet', lease: stored('100.96.4.0-24&fd00:96:0:4::-64', vx6('198.18.0.40', 'fd00:18:0:0::10')), reason: 'own-address' },
    { description: 'a broadcast VtepMAC', lease: stored('100.96.4.0-24', vx('198.18.0.40', 'ff:ff:ff:ff:ff:ff')), reason: 'vtep-mac' },
    { description: 'a zero VtepMAC', lease: stored('100.96.4.0-24', vx('198.18.0.40', '00:00:00:00:00:00')), reason: 'vtep-mac' },
    { description: 'a multicast IPv6 VtepMAC', lease: stored('100.96.4.0-24&fd00:96:0:4::-64', { ...vx6('198.18.0.40', 'fd00:18::40'), BackendV6Data: { VNI: 1, VtepMAC: '01:00:5e:00:00:01' } }), reason: 'vtep-mac' },
    { description: 'a VtepMAC that is not a MAC', lease: stored('100.96.4.0-24', vx('198.18.0.40', 'not-a-mac')), reason: 'vtep-mac' },
    { description: 'another VNI', lease: stored('100.96.4.0-24', { PublicIP: '198.18.0.40', BackendType: 'vxlan', BackendData: { VNI: 7, VtepMAC: MAC(4) } }), reason: 'vni' },
    { description: 'overlapping the reader\'s own IPv6 subnet (a newer lease)', lease: stored('100.96.5.0-24&fd00:96:0:1::-64', vx6('198.18.0.50', 'fd00:18::50', MAC(5)), 1), reason: 'overlap' },
    { description: 'another lease with an older peer\'s PublicIP (one host, one lease)', lease: stored('100.96.7.0-24', vx('198.18.0.20', MAC(7)), 99), reason: 'public-ip-taken' },
    { description: 'another lease with an older peer\'s PublicIPv6', lease: stored('100.96.7.0-24&fd00:96:0:7::-64', vx6('198.18.0.70', 'fd00:18:0::20', MAC(7)), 99), reason: 'public-ip-taken' },
    { description: 'the same IPv6 subnet as an older peer', lease: stored('100.96.6.0-24&fd00:96:0:2::-64', vx6('198.18.0.60', 'fd00:18::60', MAC(6)), 99), reason: 'overlap' },
  ];
  for (const c of cases) {
    test(`${c.description} → ${c.reason}`, () => {
      const view = new LeaseValidator({ config, reader }).validate([own, good, c.lease]);
      assert.deepEqual(view.valid.map((l) => l.key).sort(), [own.key, good.key].sort(), 'its valid neighbours stay valid');
      assert.equal(view.invalid.length, 1);
      assert.equal(view.invalid[0]!.reason, c.reason, view.invalid[0]!.message);
      assert.ok(view.invalid[0]!.message.includes(c.lease.key), 'the message names the key');
    });
  }

  test('the controller (no reader) judges the cluster the same way, bar the reader\'s own rules', () => {
    const leases = [own, good, stored('100.96.4.0-24', vx('198.18.0.10')), stored('100.96.050.0-24', vx('198.18.0.30'))];
    const view = new LeaseValidator({ config }).validate(leases);
    // Not `own-address` (the controller has no own address), but still one host with two leases.
    assert.deepEqual(view.invalid.map((i) => i.reason), ['key', 'public-ip-taken']);
  });

  test('a host-gw lease needs no VtepMAC; a flannel udp lease (BackendType "") passes', () => {
    const view = new LeaseValidator({ config, reader }).validate([
      own, stored('100.96.7.0-24', { PublicIP: '198.18.0.70', BackendType: 'host-gw' }), stored('100.96.8.0-24', { PublicIP: '198.18.0.80' }),
    ]);
    assert.equal(view.invalid.length, 0);
  });

  test('older wins an overlap whatever the order given; the reader\'s own lease always wins', () => {
    const older = stored('100.96.9.0-24', vx('198.18.0.90', MAC(9)), 3);
    const newer = stored('100.96.10.0-24&fd00:96:0:2::-64', vx6('198.18.0.91', 'fd00:18::91', MAC(10)), 2);
    for (const order of [[good, newer, older], [older, newer, good]]) {
      const view = new LeaseValidator({ config, reader }).validate(order);
      assert.deepEqual(view.invalid.map((i) => [i.key, i.reason]), [[good.key, 'overlap']], 'revision 2 is older than 6');
    }
  });

  test('a lease over the reader\'s underlay network (a Network that covers it) → underlay', () => {
    const wide = parseNetworkConfig('{"Network":"10.0.0.0/8","Backend":{"Type":"vxlan"}}');
    const view = new LeaseValidator({ config: wide, reader: { underlay: [parseCidr('10.250.0.0/24')] } }).validate([stored('10.250.0.0-24', vx('198.18.0.30'))]);
    assert.equal(view.invalid[0]?.reason, 'underlay');
  });

  test('Kubernetes podCIDRs: any length no shorter than the Network', () => {
    const v = new LeaseValidator({ config, prefixRule: 'at-least-network' });
    assert.equal(v.validate([stored('100.96.4.0-25', vx('198.18.0.40'))]).invalid.length, 0);
    assert.equal(v.validate([stored('100.0.0.0-8', vx('198.18.0.40'))]).invalid[0]?.reason, 'prefix-length');
  });

  test('a problem is reported once, and again only when its reason changes', () => {
    const v = new LeaseValidator({ config, reader });
    const bad = stored('100.96.4.0-24', vx('127.0.0.1'));
    assert.equal(v.validate([own, bad]).changed.length, 1);
    assert.equal(v.validate([own, bad]).changed.length, 0);
    assert.equal(v.validate([own, stored('100.96.4.0-24', vx('224.0.0.1'))]).changed.length, 1);
  });
});

describe('lease validator: properties', () => {
  const octet = fc.oneof(fc.integer({ min: 0, max: 255 }).map(String), fc.constantFrom('00', '050', '0140', '256', '-1', 'x'));
  const key = fc.oneof(
    fc.tuple(octet, octet, octet, octet, fc.integer({ min: 0, max: 40 })).map(([a, b, c, d, p]) => `${a}.${b}.${c}.${d}-${p}`),
    fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 })).map(([a, b]) => `100.96.${a}.${b === 0 ? 0 : b}-24`),
  );
  const ip = fc.oneof(fc.ipV4(), fc.constantFrom('127.0.0.1', '0.0.0.0', '255.255.255.255', '198.18.0.10', '224.0.0.1', '169.254.1.1', 'garbage'));
  const mac = fc.oneof(fc.constantFrom('ff:ff:ff:ff:ff:ff', '00:00:00:00:00:00', '01:00:5e:00:00:01', 'x'), fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':')));
  const record = fc.record({ key, ip, mac, vni: fc.constantFrom(1, 1, 2), rev: fc.integer({ min: 1, max: 1000 }) });

  test('never throws; what it accepts is inside the Network, /24, unicast, never overlapping', () => {
    fc.assert(fc.property(fc.array(record, { maxLength: 30 }), (records) => {
      const leases: Lease[] = [];
      for (const r of records) {
        try {
          leases.push(stored(r.key, { PublicIP: r.ip, BackendType: 'vxlan', BackendData: { VNI: r.vni, VtepMAC: r.mac } }, r.rev));
        } catch {
          // Not even a lease (the store would list it as unparseable): never reaches a validator.
        }
      }
      const view = new LeaseValidator({ config, reader }).validate(leases);
      assert.equal(view.valid.length + view.invalid.length, leases.length);
      const network = parseCidr('100.96.0.0/16');
      for (const l of view.valid) {
        assert.ok(contains(network, l.subnet) && l.subnet.prefix === 24, l.key);
        assert.match(l.attrs.publicIp, /^\d+\.\d+\.\d+\.\d+$/);
        assert.ok(!['127.', '0.', '224.', '169.254.', '255.255.255.255', '198.18.0.10'].some((p) => l.attrs.publicIp.startsWith(p) || l.attrs.publicIp === p), l.attrs.publicIp);
      }
      const subnets = view.valid.map((l) => l.subnet.addr);
      assert.equal(new Set(subnets).size, subnets.length, 'no two valid leases overlap');
    }), { numRuns: 300 });
  });
});
