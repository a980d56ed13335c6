import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCidr } from '../net/cidr.ts';
import { renderDockerOpts } from './docker-opts.ts';
import { readSubnetEnv, renderSubnetEnv, writeSubnetEnv } from './subnet-env.ts';

const dual = {
  network: parseCidr('10.244.0.0/16'), subnet: parseCidr('10.244.3.0/24'),
  ipv6Network: parseCidr('fd00::/48'), ipv6Subnet: parseCidr('fd00:0:0:3::/64'), mtu: 1450, ipMasq: true,
};

describe('subnet.env', () => {
  test("renders flannel's variables, first host address as FLANNEL_SUBNET", () => {
    assert.equal(renderSubnetEnv(dual), [
      'FLANNEL_NETWORK=10.244.0.0/16', 'FLANNEL_SUBNET=10.244.3.1/24', 'FLANNEL_IPV6_NETWORK=fd00::/48',
      'FLANNEL_IPV6_SUBNET=fd00:0:0:3::1/64', 'FLANNEL_MTU=1450', 'FLANNEL_IPMASQ=true', '',
    ].join('\n'));
  });

  test('writes atomically with mode 0644 and reads back', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tartan-env-')), 'run', 'subnet.env');
    writeSubnetEnv(path, dual);
    assert.equal(statSync(path).mode & 0o777, 0o644);
    const back = readSubnetEnv(path)!;
    assert.deepEqual(back, dual);
    assert.equal(readSubnetEnv(`${path}.missing`), undefined);
  });

  test('a bad value names the file and variable', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tartan-env-')), 'subnet.env');
    writeFileSync(path, 'FLANNEL_SUBNET=10.1.2.300/24\n');
    assert.throws(() => readSubnetEnv(path), /FLANNEL_SUBNET.*10\.1\.2\.300/);
    writeFileSync(path, 'FLANNEL_MTU=big\n');
    assert.throws(() => readSubnetEnv(path), /FLANNEL_MTU.*big/);
  });
});

describe('docker-opts (mk-docker-opts)', () => {
  const v4 = { ...dual, ipv6Network: undefined, ipv6Subnet: undefined };
  test('individual and combined, --ip-masq inverted', () => {
    assert.equal(renderDockerOpts(v4, { individual: true, combined: true, combinedKey: 'DOCKER_OPTS', omitIpMasq: false }), [
      'DOCKER_OPT_BIP="--bip=10.244.3.1/24"', 'DOCKER_OPT_IPMASQ="--ip-masq=false"', 'DOCKER_OPT_MTU="--mtu=1450"',
      'DOCKER_OPTS=" --bip=10.244.3.1/24 --ip-masq=false --mtu=1450"', '',
    ].join('\n'));
  });
  test('no ip-masq option when flannel does not masquerade, or when omitted; custom key; IPv6', () => {
    const out = renderDockerOpts({ ...dual, ipMasq: false }, { individual: false, combined: true, combinedKey: 'DOCKER_NETWORK_OPTIONS', omitIpMasq: false });
    assert.equal(out, 'DOCKER_NETWORK_OPTIONS=" --bip=10.244.3.1/24 --mtu=1450 --ipv6 --fixed-cidr-v6=fd00:0:0:3::/64"\n');
    assert.ok(!renderDockerOpts(v4, { individual: true, combined: false, combinedKey: 'X', omitIpMasq: true }).includes('ip-masq'));
  });
});
