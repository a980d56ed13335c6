import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidInputError } from '../errors.ts';
import type { InterfaceView } from '../kernel/interfaces.ts';
import { type IfaceChoice, chooseExternalInterface } from './iface.ts';

const view: InterfaceView = {
  defaultDev: 'eth0',
  defaultDev6: 'eth1',
  interfaces: [
    { name: 'lo', index: 1, mtu: 65536, up: true, addrs: [{ family: 4, local: '127.0.0.1', prefixlen: 8, scope: 'host' }] },
    { name: 'eth0', index: 2, mtu: 9001, up: true, addrs: [{ family: 4, local: '10.0.1.5', prefixlen: 24, scope: 'global' }, { family: 6, local: 'fe80::1', prefixlen: 64, scope: 'link' }] },
    { name: 'eth1', index: 3, mtu: 1500, up: true, addrs: [{ family: 4, local: '192.168.9.9', prefixlen: 24, scope: 'global' }, { family: 6, local: 'fd00::9', prefixlen: 64, scope: 'global' }] },
  ],
};
const base: IfaceChoice = { ifaces: [], ifaceRegex: [], wantIpv4: true, wantIpv6: false };

describe('external interface choice (flanneld order)', () => {
  const cases: { description: string; choice: Partial<IfaceChoice>; want: [string, string] }[] = [
    { description: 'default route interface and its address', choice: {}, want: ['eth0', '10.0.1.5'] },
    { description: '--iface by name', choice: { ifaces: ['eth1'] }, want: ['eth1', '192.168.9.9'] },
    { description: '--iface by IP', choice: { ifaces: ['192.168.9.9'] }, want: ['eth1', '192.168.9.9'] },
    { description: '--iface tries each in order', choice: { ifaces: ['wlan0', 'eth1'] }, want: ['eth1', '192.168.9.9'] },
    { description: '--iface-regex on addresses first', choice: { ifaceRegex: ['^192\\.168\\.'] }, want: ['eth1', '192.168.9.9'] },
    { description: '--iface-regex on names', choice: { ifaceRegex: ['^eth1$'] }, want: ['eth1', '192.168.9.9'] },
    { description: '--iface-can-reach device', choice: { canReachDev: 'eth1' }, want: ['eth1', '192.168.9.9'] },
    { description: '--public-ip overrides the address (NAT)', choice: { publicIp: '203.0.113.7' }, want: ['eth0', '203.0.113.7'] },
  ];
  for (const c of cases) {
    test(c.description, () => {
      const got = chooseExternalInterface(view, { ...base, ...c.choice });
      assert.deepEqual([got.name, got.publicIp], c.want);
    });
  }
  test('keeps the link MTU and the IPv6 address when dual-stack', () => {
    const got = chooseExternalInterface(view, { ...base, ifaces: ['eth1'], wantIpv6: true });
    assert.equal(got.mtu, 1500);
    assert.equal(got.publicIpv6, 'fd00::9');
  });
  const errors: { description: string; choice: Partial<IfaceChoice>; field: string }[] = [
    { description: 'no such --iface', choice: { ifaces: ['wlan0'] }, field: '--iface' },
    { description: 'regex matches nothing', choice: { ifaceRegex: ['^nope'] }, field: '--iface-regex' },
    { description: 'invalid regex', choice: { ifaceRegex: ['('] }, field: '--iface-regex' },
    { description: 'no IPv6 on the interface', choice: { wantIpv6: true }, field: '--iface' },
    { description: 'public-ip not IPv4', choice: { publicIp: 'fd00::1' }, field: '--public-ip' },
  ];
  for (const c of errors) {
    test(`error: ${c.description}`, () => {
      assert.throws(() => chooseExternalInterface(view, { ...base, ...c.choice }), (err: unknown) => err instanceof InvalidInputError && err.field === c.field);
    });
  }
  test('error: no default route', () => {
    assert.throws(() => chooseExternalInterface({ interfaces: view.interfaces }, base), /no default route/);
  });
});
