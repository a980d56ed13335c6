// `tartan audit --kernel` inside a network namespace this test creates (and always
// deletes): the vxlan backend programs it for 2 peers, then a neigh is deleted and
// a stray tartan-protocol route added by hand. Also runs the CLI as a process with
// the hidden --netns flag.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import type { Etcd3 } from 'etcd3';
import { createVxlanBackend } from '../../src/agent/backends/index.ts';
import { parseNetworkConfig } from '../../src/config/network.ts';
import { type Lease, type EtcdLeaseStore, createEtcdClient } from '../../src/lease/index.ts';
import { testLease } from '../../src/lease/testing.ts';
import { silentLogger } from '../../src/observe/log.ts';
import { type BenchHost, createBenchHost, syntheticPeer } from '../lab/bench-host.ts';
import { ipBatch } from '../lab/netns.ts';
import { sharedEtcd } from '../support/etcd.ts';
import { runAudit, seedStore } from './support.ts';

const skip = process.getuid?.() === 0 ? false : 'needs root: creates a network namespace';
const NETWORK = '10.0.0.0/8';
const config = parseNetworkConfig(JSON.stringify({ Network: NETWORK, Backend: { Type: 'vxlan' } }));
const signal = new AbortController().signal;

describe('audit --kernel (network namespace)', { skip }, () => {
  let etcd: Awaited<ReturnType<typeof sharedEtcd>>;
  let client: Etcd3;
  let host: BenchHost | undefined;
  let store: EtcdLeaseStore;
  const peers = [syntheticPeer(0), syntheticPeer(1)]; // 10.1.0.0/24 @ 192.168.1.1, 10.1.1.0/24 @ 192.168.1.2

  before(async () => {
    etcd = await sharedEtcd();
    client = createEtcdClient({ endpoints: [etcd.endpoint] });
    host = await createBenchHost('aud');
    const backend = createVxlanBackend({ network: config, iface: host.iface, log: silentLogger(), netns: host.ns });
    const prepared = await backend.prepare(signal);
    const own = testLease({ subnet: '10.9.0.0/24', revision: 0, publicIp: host.iface.publicIp, backendData: prepared.backendData });
    await backend.activate({ subnet: own.subnet }, signal);
    await backend.reconcile(peers, signal);
    store = await seedStore(client, [own, ...peers].map((l, n) => ({ n, key: l.key, publicIp: l.attrs.publicIp, backendData: l.attrs.backendData })), { Type: 'vxlan' }, NETWORK);
  });
  after(async () => {
    await host?.destroy();
    client?.close();
    await etcd?.close();
  });

  const kernelAudit = () => runAudit(store, undefined, { plan: undefined, config, kernel: { netns: host!.ns } });

  test('as programmed: the kernel matches both peers', async () => {
    const { text, json, code } = await kernelAudit();
    assert.equal(text.split('\n')[0], 'OK: no drift; cloud not audited; kernel matches 2 peers (3 leases, 3 ok)');
    assert.equal(code, 0);
    assert.equal(json.kernel?.ownLease, '10.9.0.0-24');
    assert.deepEqual(json.kernel?.objects, { expected: 6, observed: 6 });
  });

  test('a neigh deleted by hand is missing; a stray tartan-protocol route is extra', async () => {
    await ipBatch(host!.ns, ['neigh del 10.1.1.0 dev flannel.1', 'route add 10.77.0.0/24 via 192.168.0.9 dev eth0 proto 116']);
    const { text, json, code } = await kernelAudit();
    assert.equal(code, 1);
    assert.equal(text.split('\n')[0], 'DRIFT: kernel: 1 missing, 1 extra (3 leases, 2 ok)');
    assert.match(text, new RegExp(`^KERNEL \\(vxlan, netns ${host!.ns}, own lease 10\\.9\\.0\\.0-24, 2 peers, 6/6 objects\\)$`, 'm'));
    const mac = (peers[1]!.attrs.backendData as { VtepMAC: string }).VtepMAC;
    assert.match(text, new RegExp(`^missing +10\\.1\\.1\\.0-24 +neigh 10\\.1\\.1\\.0 lladdr ${mac} dev flannel\\.1$`, 'm'));
    assert.match(text, /^extra +- +route 10\.77\.0\.0\/24 via 192\.168\.0\.9 dev eth0$/m);
    assert.deepEqual(json.kernel?.drift.map((d) => [d.kind, d.peer, d.object.key]), [
      ['missing', '10.1.1.0-24', 'neigh flannel.1 10.1.1.0'],
      ['extra', null, 'route 10.77.0.0/24'],
    ]);
    assert.deepEqual(json.subnets.map((s) => [s.lease, s.problems]), [['10.1.1.0-24', [`kernel: missing neigh 10.1.1.0 lladdr ${mac} dev flannel.1`]]]);
  });

  test('hybrid: a peer in this host\'s route domain whose cloud route is programmed needs nothing in the kernel', async () => {
    const domain = { RouteDomain: 'aws:vpc-0abc' };
    const withDomain = (l: Lease): Lease => ({ ...l, attrs: { ...l.attrs, backendData: { ...(l.attrs.backendData as object), ...domain } } });
    const leases = (await store.list(signal)).leases.map((l) => (l.key === '10.1.1.0-24' ? l : withDomain(l)));
    const hybrid = await seedStore(client, leases.map((l, n) => ({ n, key: l.key, publicIp: l.attrs.publicIp, backendData: l.attrs.backendData })), { Type: 'vxlan' }, NETWORK);
    await hybrid.putRouteStatus('10.1.0.0-24', { state: 'programmed', tables: { 'rtb-1': 'programmed' } }, signal);
    await hybrid.writeHeartbeat({ observed: new Date().toISOString(), resyncSeconds: 60 }, signal);
    const { json } = await runAudit(hybrid, undefined, { plan: undefined, config, kernel: { netns: host!.ns } });
    assert.equal(json.kernel?.routeDomain, 'aws:vpc-0abc');
    assert.deepEqual([json.kernel?.peers, json.kernel?.cloudRoutedPeers], [1, 1]);
    // The agent removes the VPC-routed peer's objects at its next reconcile: until then they are extra.
    assert.deepEqual(json.kernel?.drift.map((d) => [d.kind, d.peer, d.object.kind]), [
      ['extra', '10.1.0.0-24', 'fdb'], ['extra', '10.1.0.0-24', 'neigh'], ['extra', '10.1.0.0-24', 'route'],
      ['missing', '10.1.1.0-24', 'neigh'],
      ['extra', null, 'route'],
    ]);
  });

  test('the CLI as a process: --kernel --netns, --provider none, JSON, exit 1', async () => {
    const { code, stdout, stderr } = await cli([
      'audit', '--etcd-endpoints', etcd.endpoint, '--etcd-prefix', store.prefix, '--provider', 'none',
      '--kernel', '--netns', host!.ns, '--output', 'json',
    ]);
    assert.equal(code, 1, stderr);
    const report = JSON.parse(stdout) as { result: string; kernel: { counts: unknown } };
    assert.equal(report.result, 'drift');
    assert.deepEqual(report.kernel.counts, { missing: 1, extra: 1, different: 0 });
  });
});

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['src/cli/main.ts', ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}
