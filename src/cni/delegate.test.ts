import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildDelegate } from './delegate.ts';
import { parseNetConf } from './netconf.ts';
import { parseSubnetFile } from './subnet-file.ts';

const V4 = 'FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n';
const DUAL = `${V4}FLANNEL_IPV6_NETWORK=fd00::/48\nFLANNEL_IPV6_SUBNET=fd00:0:0:1::1/64\n`;

describe('buildDelegate (flannel_linux.go doCmdAdd)', () => {
  const cases: { description: string; conf: Record<string, unknown>; env: string; want: string }[] = [
    {
      description: "kube-flannel's cni-conf.json with flanneld --ip-masq: ipMasq false, mtu and gateway from flannel, keys sorted",
      conf: { cniVersion: '0.3.1', name: 'cbr0', type: 'flannel', delegate: { hairpinMode: true, isDefaultGateway: true } },
      env: V4,
      want: '{"cniVersion":"0.3.1","hairpinMode":true,"ipMasq":false,"ipam":{"ranges":[[{"subnet":"10.244.1.0/24"}]],' +
        '"routes":[{"dst":"10.244.0.0/16"}],"type":"host-local"},"isDefaultGateway":true,"isGateway":true,"mtu":1450,"name":"cbr0","type":"bridge"}',
    },
    {
      description: 'FLANNEL_IPMASQ=false → the bridge masquerades; dual-stack ranges and a route per Network',
      conf: { cniVersion: '1.0.0', name: 'cbr0', type: 'flannel' },
      env: DUAL.replace('FLANNEL_IPMASQ=true', 'FLANNEL_IPMASQ=false'),
      want: '{"cniVersion":"1.0.0","ipMasq":true,"ipam":{"ranges":[[{"subnet":"10.244.1.0/24"}],[{"subnet":"fd00:0:0:1::/64"}]],' +
        '"routes":[{"dst":"10.244.0.0/16"},{"dst":"fd00::/48"}],"type":"host-local"},"isGateway":true,"mtu":1450,"name":"cbr0","type":"bridge"}',
    },
    {
      description: "the user's type, ipMasq, mtu and isGateway win; ipam keys and routes kept ahead of the Network's; runtimeConfig copied",
      conf: {
        cniVersion: '1.0.0', name: 'n', type: 'flannel',
        delegate: { type: 'bridge', bridge: 'cbr9', ipMasq: false, mtu: 1300, isGateway: false },
        ipam: { dataDir: '/tmp/ipam', routes: [{ dst: '0.0.0.0/0' }], ranges: 'replaced' },
        runtimeConfig: { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }] },
      },
      env: V4,
      want: '{"bridge":"cbr9","cniVersion":"1.0.0","ipMasq":false,"ipam":{"dataDir":"/tmp/ipam","ranges":[[{"subnet":"10.244.1.0/24"}]],' +
        '"routes":[{"dst":"0.0.0.0/0"},{"dst":"10.244.0.0/16"}],"type":"host-local"},"isGateway":false,"mtu":1300,"name":"n",' +
        '"runtimeConfig":{"portMappings":[{"containerPort":80,"hostPort":8080,"protocol":"tcp"}]},"type":"bridge"}',
    },
    {
      description: 'another delegate type (ipvlan): no isGateway; no cniVersion in the conf → none in the delegate',
      conf: { name: 'n', type: 'flannel', delegate: { type: 'ipvlan', master: 'eth0' } },
      env: V4,
      want: '{"ipMasq":false,"ipam":{"ranges":[[{"subnet":"10.244.1.0/24"}]],"routes":[{"dst":"10.244.0.0/16"}],"type":"host-local"},' +
        '"master":"eth0","mtu":1450,"name":"n","type":"ipvlan"}',
    },
  ];
  for (const c of cases) {
    test(c.description, () => {
      const got = buildDelegate(parseNetConf(JSON.stringify(c.conf)), parseSubnetFile('/run/flannel/subnet.env', c.env));
      assert.equal(JSON.stringify(got), c.want);
    });
  }
});
