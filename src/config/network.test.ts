import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidInputError } from '../errors.ts';
import { formatCidr } from '../net/cidr.ts';
import { parseNetworkConfig } from './network.ts';

describe('network config defaults (as flannel computes them)', () => {
  const cases: { description: string; json: object; want: { len: number; min: string; max: string }; family?: 4 | 6 }[] = [
    { description: '/16 → SubnetLen 24, skip the first subnet', json: { Network: '10.244.0.0/16' }, want: { len: 24, min: '10.244.1.0/24', max: '10.244.255.0/24' } },
    { description: '/22 is still ≤ 22 → 24', json: { Network: '10.1.0.0/22' }, want: { len: 24, min: '10.1.1.0/24', max: '10.1.3.0/24' } },
    { description: '/23 → prefix + 2 = 25', json: { Network: '10.1.0.0/23' }, want: { len: 25, min: '10.1.0.128/25', max: '10.1.1.128/25' } },
    { description: '/28 → 30', json: { Network: '10.1.0.0/28' }, want: { len: 30, min: '10.1.0.4/30', max: '10.1.0.12/30' } },
    { description: 'explicit SubnetLen, Min and Max', json: { Network: '10.0.0.0/8', SubnetLen: 20, SubnetMin: '10.10.0.0', SubnetMax: '10.99.240.0' }, want: { len: 20, min: '10.10.0.0/20', max: '10.99.240.0/20' } },
    { description: 'keys are case-insensitive', json: { network: '10.5.0.0/16', SUBNETLEN: 26 }, want: { len: 26, min: '10.5.0.64/26', max: '10.5.255.192/26' } },
    { description: 'IPv6 /48 → 64', family: 6, json: { EnableIPv4: false, EnableIPv6: true, IPv6Network: 'fc00::/48' }, want: { len: 64, min: 'fc00:0:0:1::/64', max: 'fc00:0:0:ffff::/64' } },
    { description: 'IPv6 /120 → prefix + 2', family: 6, json: { EnableIPv4: false, EnableIPv6: true, IPv6Network: 'fc00::/120' }, want: { len: 122, min: 'fc00::40/122', max: 'fc00::c0/122' } },
  ];
  for (const c of cases) {
    test(c.description, () => {
      const config = parseNetworkConfig(JSON.stringify(c.json));
      const pool = c.family === 6 ? config.ipv6 : config.ipv4;
      assert.ok(pool);
      assert.deepEqual({ len: pool.subnetLen, min: formatCidr(pool.subnetMin), max: formatCidr(pool.subnetMax) }, c.want);
    });
  }

  test('Backend.Type defaults to vxlan; Type is lower-cased; options kept', () => {
    assert.equal(parseNetworkConfig('{"Network":"10.0.0.0/16"}').backend.type, 'vxlan');
    const b = parseNetworkConfig('{"Network":"10.0.0.0/16","Backend":{"Type":"host-gw","DirectRouting":true}}').backend;
    assert.deepEqual(b, { type: 'host-gw', options: { DirectRouting: true } });
    assert.equal(parseNetworkConfig('{"Network":"10.0.0.0/16","Backend":{"type":"VXLAN"}}').backend.type, 'vxlan');
  });

  test('dual-stack builds both pools; EnableNFTables read', () => {
    const c = parseNetworkConfig('{"Network":"10.0.0.0/16","EnableIPv6":true,"IPv6Network":"fd00::/56","EnableNFTables":true}');
    assert.equal(c.ipv4?.subnetLen, 24);
    assert.equal(c.ipv6?.subnetLen, 64);
    assert.equal(c.enableNFTables, true);
  });
});

describe('network config errors name the field and the value', () => {
  const cases: { description: string; text: string; field: string; mention: string }[] = [
    { description: 'not JSON', text: '{"Network":', field: 'network config', mention: 'not valid JSON' },
    { description: 'not an object', text: '[1]', field: 'network config', mention: '[1]' },
    { description: 'missing Network', text: '{}', field: 'Network', mention: 'required' },
    { description: 'Network not a CIDR', text: '{"Network":"10.0.0.0"}', field: 'Network', mention: '"10.0.0.0"' },
    { description: 'Network with host bits', text: '{"Network":"10.0.0.1/16"}', field: 'Network', mention: '10.0.0.0/16' },
    { description: 'IPv6 in Network', text: '{"Network":"fc00::/48"}', field: 'Network', mention: 'IPv4' },
    { description: 'network prefix too long', text: '{"Network":"10.0.0.0/29"}', field: 'Network', mention: '/28' },
    { description: 'SubnetLen > 30', text: '{"Network":"10.0.0.0/16","SubnetLen":31}', field: 'SubnetLen', mention: '31' },
    { description: 'SubnetLen too short for four subnets', text: '{"Network":"10.0.0.0/16","SubnetLen":17}', field: 'SubnetLen', mention: 'four subnets' },
    { description: 'SubnetLen not a number', text: '{"Network":"10.0.0.0/16","SubnetLen":"24"}', field: 'SubnetLen', mention: '"24"' },
    { description: 'SubnetMin outside Network', text: '{"Network":"10.0.0.0/16","SubnetMin":"10.1.0.0"}', field: 'SubnetMin', mention: '10.1.0.0' },
    { description: 'SubnetMax not aligned', text: '{"Network":"10.0.0.0/16","SubnetMax":"10.0.5.7"}', field: 'SubnetMax', mention: 'boundary' },
    { description: 'SubnetMin above SubnetMax (flannel forgot this)', text: '{"Network":"10.0.0.0/16","SubnetMin":"10.0.9.0","SubnetMax":"10.0.3.0"}', field: 'SubnetMin', mention: '10.0.3.0/24' },
    { description: 'no family enabled', text: '{"EnableIPv4":false}', field: 'EnableIPv4', mention: 'at least one' },
    { description: 'EnableIPv6 without IPv6Network', text: '{"Network":"10.0.0.0/16","EnableIPv6":true}', field: 'IPv6Network', mention: 'required' },
    { description: 'IPv6SubnetLen > 126', text: '{"EnableIPv4":false,"EnableIPv6":true,"IPv6Network":"fc00::/48","IPv6SubnetLen":127}', field: 'IPv6SubnetLen', mention: '126' },
    { description: 'IPv6 prefix too long', text: '{"EnableIPv4":false,"EnableIPv6":true,"IPv6Network":"fc00::/125"}', field: 'IPv6Network', mention: '/124' },
    { description: 'EnableIPv4 not a boolean', text: '{"Network":"10.0.0.0/16","EnableIPv4":"yes"}', field: 'EnableIPv4', mention: '"yes"' },
    { description: 'Backend not an object', text: '{"Network":"10.0.0.0/16","Backend":"vxlan"}', field: 'Backend', mention: '"vxlan"' },
    { description: 'Backend.Type not a string', text: '{"Network":"10.0.0.0/16","Backend":{"Type":7}}', field: 'Backend.Type', mention: '7' },
  ];
  for (const c of cases) {
    test(c.description, () => {
      assert.throws(() => parseNetworkConfig(c.text), (err: unknown) => {
        assert.ok(err instanceof InvalidInputError, `expected InvalidInputError, got ${String(err)}`);
        assert.equal(err.field, c.field);
        assert.ok(err.message.includes(c.mention), `message ${JSON.stringify(err.message)} mentions ${c.mention}`);
        return true;
      });
    });
  }
});
