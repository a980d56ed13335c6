// `tartan agent` as a process, inside a network namespace of its own with a real
// etcd: subnet.env, /readyz, SIGTERM leaves lease and device in place, a restart
// keeps the subnet; bad input exits 2 naming the flag or field.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNamespace, deleteNamespace, ipBatch, labId, nsExec } from '../lab/netns.ts';
import { type EtcdServer, startEtcd } from '../support/etcd.ts';
import { freePort } from '../support/ports.ts';
import { collectOutput, spawnTracked, stopChild } from '../support/process.ts';
import { waitFor } from '../support/wait.ts';

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const root = process.getuid?.() === 0;

describe('tartan agent as a process', { skip: root ? false : 'needs root for a network namespace' }, () => {
  const ns = `tt-${labId()}-agent`;
  const dir = mkdtempSync(join(tmpdir(), 'tartan-agent-proc-'));
  const subnetFile = join(dir, 'subnet.env');
  const configFile = join(dir, 'net-conf.json');
  let etcd: EtcdServer;
  let healthPort: number;

  before(async () => {
    await createNamespace(ns);
    await ipBatch(ns, [
      'link set lo up',
      'link add eth0 type veth peer name eth0-peer',
      'link set eth0-peer up',
      'addr add 192.168.77.2/24 dev eth0',
      'link set eth0 up',
      'route add default via 192.168.77.1 dev eth0',
    ]);
    etcd = await startEtcd({ netns: ns });
    healthPort = await freePort();
    writeFileSync(configFile, JSON.stringify({ Network: '10.77.0.0/16', Backend: { Type: 'vxlan' } }));
  });
  after(async () => {
    await etcd?.destroy();
    await deleteNamespace(ns);
  });

  const agent = (...extra: string[]) => {
    const child = spawnTracked('ip', ['netns', 'exec', ns, process.execPath, MAIN, 'agent',
      '--etcd-endpoints', etcd.endpoint, '--net-config-path', configFile, '--subnet-file', subnetFile,
      '--healthz-ip', '127.0.0.1', '--healthz-port', String(healthPort), '--resync-period', '2s', ...extra]);
    return { child, output: collectOutput(child) };
  };
  const ready = async () => (await nsExec(ns, 'curl', ['-sf', `http://127.0.0.1:${healthPort}/readyz`])).code === 0;
  const subnet = () => /FLANNEL_SUBNET=(\S+)/.exec(readFileSync(subnetFile, 'utf8'))?.[1];

  test('writes subnet.env and is ready; SIGTERM stops it cleanly leaving lease and device; a restart keeps the subnet', async () => {
    const first = agent();
    await waitFor('subnet.env', () => existsSync(subnetFile), { timeoutMs: 20_000, details: first.output.text });
    await waitFor('/readyz 200', ready, { timeoutMs: 20_000, details: first.output.text });
    const env = readFileSync(subnetFile, 'utf8');
    assert.match(env, /^FLANNEL_NETWORK=10\.77\.0\.0\/16\nFLANNEL_SUBNET=10\.77\.\d+\.1\/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=false\n$/);
    const before = subnet();
    const mac = (await nsExec(ns, 'cat', ['/sys/class/net/flannel.1/address'])).stdout.trim();
    assert.match(mac, /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
    assert.equal(await stopChild(first.child, 'SIGTERM'), 0, first.output.text());
    assert.match(first.output.text(), /lease and kernel state left in place/);
    const leases = await nsExec(ns, 'etcdctl', ['--endpoints', etcd.endpoint, 'get', '--prefix', '--keys-only', '/coreos.com/network/subnets/']);
    assert.match(leases.stdout, new RegExp(`${before!.replace(/\.1\/24$/, '.0-24').replace(/\./g, '\\.')}`), 'lease still in etcd');
    assert.equal((await nsExec(ns, 'cat', ['/sys/class/net/flannel.1/address'])).stdout.trim(), mac, 'device left in place');

    const second = agent();
    await waitFor('/readyz 200 after restart', ready, { timeoutMs: 20_000, details: second.output.text });
    assert.equal(subnet(), before);
    assert.equal((await nsExec(ns, 'cat', ['/sys/class/net/flannel.1/address'])).stdout.trim(), mac, 'same VTEP MAC');
    assert.equal(await stopChild(second.child, 'SIGTERM'), 0);
  });

  test('a bad flag exits 2 naming the flag; a bad config exits 2 naming the field', async () => {
    const badFlag = agent('--subnet-lease-renew-margin', '2000');
    assert.equal(await new Promise((r) => badFlag.child.once('exit', r)), 2);
    assert.match(badFlag.output.text(), /--subnet-lease-renew-margin.*1439.*2000/);
    writeFileSync(join(dir, 'bad.json'), '{"Network":"10.77.0.0/16","SubnetLen":31}');
    const badConfig = spawnTracked('ip', ['netns', 'exec', ns, process.execPath, MAIN, 'agent', '--etcd-endpoints', etcd.endpoint, '--net-config-path', join(dir, 'bad.json')]);
    const out = collectOutput(badConfig);
    assert.equal(await new Promise((r) => badConfig.once('exit', r)), 2);
    assert.match(out.text(), /SubnetLen.*31/);
  });
});
