import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCidr } from '../net/cidr.ts';
import { testLease } from './testing.ts';

test('testLease: the key follows the subnets; defaults; optional fields only when given', () => {
  assert.deepEqual(testLease({ subnet: '10.5.1.0/24' }), {
    key: '10.5.1.0-24', subnet: parseCidr('10.5.1.0/24'),
    attrs: { publicIp: '192.0.2.1', backendType: 'vxlan' }, reservation: false, revision: 1,
  });
  const dual = testLease({ subnet: parseCidr('10.5.2.0/24'), ipv6Subnet: 'fd00:5:0:2::/64', publicIpv6: 'fd00::2', backendData: { VNI: 1 }, expiresAt: 5 });
  assert.equal(dual.key, '10.5.2.0-24&fd00:5:0:2::-64');
  assert.deepEqual([dual.attrs.publicIpv6, dual.attrs.backendData, dual.expiresAt], ['fd00::2', { VNI: 1 }, 5]);
  assert.throws(() => testLease({ subnet: '10.5.1.1/24' }), /testLease subnet/);
});
