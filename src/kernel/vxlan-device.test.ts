import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { type VxlanDeviceSpec, randomVtepMac, vxlanMismatches } from './vxlan-device.ts';

const spec: VxlanDeviceSpec = {
  name: 'flannel.1', vni: 1, port: 8472, local: '192.168.1.1', underlay: 'eth0', learning: false, gbp: false, mtu: 1450,
};
/** info_data as `ip -d -json link show` prints it for a device made from `spec`. */
const matching = { id: 1, local: '192.168.1.1', link: 'eth0', port: 8472, learning: false, ttl: 0 };

describe('vxlanMismatches', () => {
  const cases: Array<{ description: string; spec?: Partial<VxlanDeviceSpec>; data: Record<string, unknown>; want: string[] }> = [
    { description: 'same identity: reuse', data: matching, want: [] },
    { description: 'learning and MTU are not identity (changed in place)', spec: { learning: true, mtu: 9000 }, data: matching, want: [] },
    { description: 'another VNI', data: { ...matching, id: 2 }, want: ['vni: 2 → 1'] },
    { description: 'another port', data: { ...matching, port: 4789 }, want: ['port: 4789 → 8472'] },
    { description: 'another local address', data: { ...matching, local: '192.168.1.9' }, want: ['local: 192.168.1.9 → 192.168.1.1'] },
    { description: 'another underlay link', data: { ...matching, link: 'eth1' }, want: ['underlay: eth1 → eth0'] },
    { description: 'GBP turned on (the kernel cannot change it in place)', spec: { gbp: true }, data: matching, want: ['gbp: false → true'] },
    { description: 'no underlay link at all (someone made it by hand)', data: { id: 1, local: '192.168.1.1', port: 8472 }, want: ['underlay:  → eth0'] },
    {
      description: 'IPv6 local address compared canonically',
      spec: { name: 'flannel-v6.1', local: 'FD00:0:0:0::1' },
      data: { id: 1, local6: 'fd00::1', link: 'eth0', port: 8472 },
      want: [],
    },
  ];
  for (const c of cases) {
    it(c.description, () => assert.deepEqual(vxlanMismatches({ ...spec, ...c.spec }, c.data), c.want));
  }
});

describe('randomVtepMac', () => {
  it('sets the locally administered bit and clears the multicast bit', () => {
    assert.equal(randomVtepMac(Buffer.from([0xff, 1, 2, 3, 4, 5])), 'fe:01:02:03:04:05');
    assert.equal(randomVtepMac(Buffer.from([0x00, 0xab, 0, 0, 0, 0x10])), '02:ab:00:00:00:10');
  });

  it('differs between calls', () => {
    assert.notEqual(randomVtepMac(), randomVtepMac());
  });
});
