import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidInputError } from '../../errors.ts';
import { parseNetworkConfig } from '../../config/network.ts';
import { parseVxlanConfig } from './vxlan-config.ts';

const network = (backend: Record<string, unknown>, ipv6 = false) => parseNetworkConfig(JSON.stringify({
  Network: '10.5.0.0/16', ...(ipv6 ? { EnableIPv6: true, IPv6Network: 'fd00:5::/48' } : {}), Backend: { Type: 'vxlan', ...backend },
}));

describe('parseVxlanConfig', () => {
  const cases: Array<{ description: string; backend: Record<string, unknown>; want: Record<string, unknown> }> = [
    {
      description: 'flannel defaults: VNI 1, port 8472, no GBP, no learning, MTU from the link, no DirectRouting',
      backend: {},
      want: { vni: 1, port: 8472, gbp: false, learning: false, mtu: undefined, directRouting: false, deviceV4: 'flannel.1', deviceV6: 'flannel-v6.1' },
    },
    {
      description: 'zero values mean the default, like Go zero values in flannel',
      backend: { VNI: 0, Port: 0, MTU: 0 },
      want: { vni: 1, port: 8472, mtu: undefined },
    },
    {
      description: 'keys are case-insensitive',
      backend: { vni: 4096, PORT: 4789, gbp: true, learning: true, mtu: 8950, directrouting: true },
      want: { vni: 4096, port: 4789, gbp: true, learning: true, mtu: 8950, directRouting: true, deviceV4: 'flannel.4096' },
    },
  ];
  for (const c of cases) {
    it(c.description, () => {
      const got = parseVxlanConfig(network(c.backend));
      for (const [k, v] of Object.entries(c.want)) assert.equal(got[k as keyof typeof got], v, k);
    });
  }

  const bad: Array<{ description: string; backend: Record<string, unknown>; field: string; ipv6?: boolean }> = [
    { description: 'VNI above 24 bits', backend: { VNI: 0x1000000 }, field: 'Backend.VNI' },
    { description: 'VNI not a number', backend: { VNI: '1' }, field: 'Backend.VNI' },
    { description: 'port out of range', backend: { Port: 70000 }, field: 'Backend.Port' },
    { description: 'MTU too small to carry IPv4', backend: { MTU: 40 }, field: 'Backend.MTU' },
    { description: 'DirectRouting not a boolean', backend: { DirectRouting: 'yes' }, field: 'Backend.DirectRouting' },
    { description: 'a VNI that makes flannel-v6.<VNI> longer than IFNAMSIZ', backend: { VNI: 123456 }, field: 'Backend.VNI', ipv6: true },
  ];
  for (const c of bad) {
    it(`rejects ${c.description}, naming the field`, () => {
      assert.throws(() => parseVxlanConfig(network(c.backend, c.ipv6)), (err: unknown) => err instanceof InvalidInputError && err.field === c.field);
    });
  }

  it('a long VNI is fine when IPv6 is off (flannel.123456 fits in 15 characters)', () => {
    assert.equal(parseVxlanConfig(network({ VNI: 123456 })).deviceV4, 'flannel.123456');
  });
});
