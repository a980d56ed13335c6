import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidInputError } from '../errors.ts';
import { formatCidr, parseCidr } from '../net/cidr.ts';
import { decodeLeaseAttrs, encodeLeaseAttrs, parseSubnetKey, subnetKey } from './lease.ts';

describe('subnet keys (flannel form)', () => {
  test('IPv4 and dual-stack round trip', () => {
    assert.equal(subnetKey(parseCidr('10.5.52.0/24')), '10.5.52.0-24');
    assert.equal(subnetKey(parseCidr('10.5.52.0/24'), parseCidr('fc00:0:0:3::/64')), '10.5.52.0-24&fc00:0:0:3::-64');
    const { subnet, ipv6Subnet } = parseSubnetKey('10.5.52.0-24&fc00::-64');
    assert.equal(formatCidr(subnet), '10.5.52.0/24');
    assert.equal(ipv6Subnet && formatCidr(ipv6Subnet), 'fc00::/64');
  });
  for (const bad of ['10.5.52.0', '10.5.52.0-33', 'fc00::-64', '10.5.52.0-24&10.1.0.0-24', 'x-24', '10.5.52.1-24', 'a&b&c']) {
    test(`rejects ${bad}`, () => assert.throws(() => parseSubnetKey(bad), InvalidInputError));
  }
});

describe('lease values (flannel JSON)', () => {
  test('encodes exactly like flannel', () => {
    const text = encodeLeaseAttrs({ publicIp: '192.168.64.3', backendType: 'vxlan', backendData: { VNI: 1, VtepMAC: '8e:5a:0d:07:0f:0d' } });
    assert.equal(text, '{"PublicIP":"192.168.64.3","PublicIPv6":null,"BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"8e:5a:0d:07:0f:0d"}}');
  });
  test('a udp lease (BackendType "") is written as flannel writes it: BackendType left out (omitempty)', () => {
    assert.equal(encodeLeaseAttrs({ publicIp: '192.168.64.3', backendType: '' }), '{"PublicIP":"192.168.64.3","PublicIPv6":null}');
    assert.equal(decodeLeaseAttrs('k', '{"PublicIP":"192.168.64.3","PublicIPv6":null}').backendType, '');
  });
  test('decodes flannel values, v6 included', () => {
    const attrs = decodeLeaseAttrs('k', '{"PublicIP":"10.0.0.1","PublicIPv6":"fc00::0001","BackendType":"vxlan","BackendData":{"VNI":1},"BackendV6Data":{"VNI":1}}');
    assert.deepEqual(attrs, { publicIp: '10.0.0.1', publicIpv6: 'fc00::1', backendType: 'vxlan', backendData: { VNI: 1 }, backendV6Data: { VNI: 1 } });
  });
  const bad: [string, string][] = [
    ['not JSON', 'garbage{'],
    ['array', '[]'],
    ['missing PublicIP', '{"BackendType":"vxlan"}'],
    ['PublicIP not an IP', '{"PublicIP":"host-1"}'],
    ['PublicIP IPv6', '{"PublicIP":"fc00::1"}'],
    ['PublicIPv6 is IPv4', '{"PublicIP":"10.0.0.1","PublicIPv6":"10.0.0.2"}'],
    ['BackendType number', '{"PublicIP":"10.0.0.1","BackendType":3}'],
  ];
  for (const [name, text] of bad) {
    test(`rejects ${name}, naming the key`, () => {
      assert.throws(() => decodeLeaseAttrs('10.1.2.0-24', text), (err: unknown) => err instanceof InvalidInputError && err.message.includes('10.1.2.0-24'));
    });
  }
});
