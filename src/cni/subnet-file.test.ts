import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatCidr } from '../net/cidr.ts';
import { CniError } from './errors.ts';
import { missingSubnetFile, parseSubnetFile } from './subnet-file.ts';

const F = '/run/flannel/subnet.env';

describe('parseSubnetFile', () => {
  const cases: { description: string; text: string; want: Record<string, unknown> }[] = [
    {
      description: "the agent's file: subnet's host bits cleared, ipmasq read",
      text: 'FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n',
      want: { networks: ['10.244.0.0/16'], ipv6Networks: [], subnet: '10.244.1.0/24', ipv6Subnet: undefined, mtu: 1450, ipMasq: true },
    },
    {
      description: 'dual-stack, comma lists deduplicated',
      text: 'FLANNEL_NETWORK=10.244.0.0/16,10.245.0.0/16,10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\n' +
        'FLANNEL_IPV6_NETWORK=fd00::/48\nFLANNEL_IPV6_SUBNET=fd00:0:0:1::1/64\nFLANNEL_MTU=1400\nFLANNEL_IPMASQ=false\n',
      want: { networks: ['10.244.0.0/16', '10.245.0.0/16'], ipv6Networks: ['fd00::/48'], subnet: '10.244.1.0/24', ipv6Subnet: 'fd00:0:0:1::/64', mtu: 1400, ipMasq: false },
    },
    {
      description: 'IPv6 only',
      text: 'FLANNEL_IPV6_NETWORK=fd00::/48\nFLANNEL_IPV6_SUBNET=fd00:0:0:7::1/64\nFLANNEL_MTU=1430\nFLANNEL_IPMASQ=false\n',
      want: { networks: [], ipv6Networks: ['fd00::/48'], subnet: undefined, ipv6Subnet: 'fd00:0:0:7::/64', mtu: 1430, ipMasq: false },
    },
  ];
  for (const c of cases) {
    test(c.description, () => {
      const env = parseSubnetFile(F, c.text);
      assert.deepEqual({
        networks: env.networks.map(formatCidr), ipv6Networks: env.ipv6Networks.map(formatCidr),
        subnet: env.subnet && formatCidr(env.subnet), ipv6Subnet: env.ipv6Subnet && formatCidr(env.ipv6Subnet),
        mtu: env.mtu, ipMasq: env.ipMasq,
      }, c.want);
    });
  }

  const bad: { description: string; text: string; error: RegExp }[] = [
    { description: 'empty file: every missing variable named', text: '', error: /subnet\.env is missing FLANNEL_NETWORK or FLANNEL_IPV6_NETWORK, FLANNEL_SUBNET or FLANNEL_IPV6_SUBNET, FLANNEL_MTU, FLANNEL_IPMASQ/ },
    { description: 'no MTU', text: 'FLANNEL_NETWORK=10.1.0.0/16\nFLANNEL_SUBNET=10.1.2.1/24\nFLANNEL_IPMASQ=true\n', error: /is missing FLANNEL_MTU$|is missing FLANNEL_MTU \(/ },
    { description: 'bad subnet names file and key', text: 'FLANNEL_SUBNET=10.1.2.300/24\n', error: /subnet\.env: FLANNEL_SUBNET.*10\.1\.2\.300/ },
    { description: 'bad MTU', text: 'FLANNEL_NETWORK=10.1.0.0/16\nFLANNEL_SUBNET=10.1.2.1/24\nFLANNEL_MTU=big\nFLANNEL_IPMASQ=true\n', error: /FLANNEL_MTU.*"big"/ },
    { description: 'IPv6 in FLANNEL_NETWORK', text: 'FLANNEL_NETWORK=fd00::/48\n', error: /FLANNEL_NETWORK: must be an IPv4 prefix/ },
  ];
  for (const c of bad) {
    test(`error: ${c.description}`, () => {
      assert.throws(() => parseSubnetFile(F, c.text), (err: unknown) => {
        assert.ok(err instanceof CniError);
        assert.equal(err.code, 6);
        assert.match(err.message, c.error);
        return true;
      });
    });
  }

  test('a missing file says which file and that the agent has not written it yet (code 11: try again later)', () => {
    const e = missingSubnetFile(F);
    assert.equal(e.code, 11);
    assert.match(e.message, /^\/run\/flannel\/subnet\.env does not exist: .*agent.*has not written it yet/);
  });
});
