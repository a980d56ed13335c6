// Real agents on lab hosts: a host that joins is reached from every pod on lease
// events (not at a resync), and a host whose lease is deleted disappears from
// every other host's kernel (routes, neigh, fdb).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { formatCidr } from '../../src/net/cidr.ts';
import { startEtcd, type EtcdServer } from '../support/etcd.ts';
import { stopChild } from '../support/process.ts';
import { type HostSubnet, startLabAgent, waitSubnetEnv } from '../lab/agents.ts';
import { type Lab, type LabPod, createLab } from '../lab/lab.ts';
import { nsExec } from '../lab/netns.ts';
import { ping } from '../lab/ping.ts';

const root = process.getuid?.() === 0;
// The resync is far away: whatever happens within the test's bounds came from lease events.
const RESYNC = '120s';

describe('agents on a lab cluster', { skip: root ? false : 'needs root for network namespaces' }, () => {
  let lab: Lab;
  let etcd: EtcdServer;
  const dir = mkdtempSync(join(tmpdir(), 'tartan-agents-'));
  const agents = new Map<string, ChildProcess>();
  const subnets = new Map<string, HostSubnet>();
  const pods = new Map<string, LabPod>();
  let config: string;

  const start = async (i: number): Promise<void> => {
    const h = lab.hosts[i]!;
    agents.set(h.ns, startLabAgent(h, { dir, etcdEndpoint: etcd.endpoint, netConfigPath: config, extraArgs: ['--resync-period', RESYNC] }));
    const s = await waitSubnetEnv(h, dir);
    subnets.set(h.ns, s);
    const [pod] = await lab.addPods(h, { subnet: s.cidr, count: 1, mtu: s.mtu });
    pods.set(h.ns, pod!);
  };

  before(async () => {
    lab = await createLab({ hosts: 4, podsPerHost: 0 });
    const h1 = lab.hosts[0]!;
    etcd = await startEtcd({ netns: h1.ns, host: h1.ip });
    config = join(dir, 'net-conf.json');
    writeFileSync(config, JSON.stringify({ Network: lab.network, Backend: { Type: 'vxlan' } }));
    for (const i of [0, 1, 2]) await start(i);
  });
  after(async () => {
    for (const a of agents.values()) await stopChild(a);
    await etcd?.destroy();
    await lab?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const reachable = async (from: LabPod, to: LabPod, withinMs: number): Promise<number> => {
    const started = Date.now();
    for (;;) {
      if ((await ping(from.ns, to.ip, { count: 1, timeout: 1 })).received === 1) return Date.now() - started;
      if (Date.now() - started > withinMs) return -1;
    }
  };

  test('a fourth host joins: every pod reaches it, and it reaches every pod, on the lease event', async () => {
    await start(3);
    const h4 = pods.get(lab.hosts[3]!.ns)!;
    for (const i of [0, 1, 2]) {
      const p = pods.get(lab.hosts[i]!.ns)!;
      const ms = await reachable(p, h4, 5000);
      assert.ok(ms >= 0, `${p.ns} reaches the new host's pod ${h4.ip} within 5 s of its subnet.env (resync ${RESYNC})`);
      assert.ok((await reachable(h4, p, 5000)) >= 0, `the new host's pod reaches ${p.ip}`);
    }
  });

  test("a host's lease deleted → its route, neigh and fdb gone on every other host", async () => {
    const gone = lab.hosts[2]!;
    const subnet = subnets.get(gone.ns)!.cidr;
    const key = formatCidr(subnet).replace('/', '-');
    const objectsFor = async (ns: string): Promise<string[]> => {
      const routes = (await nsExec(ns, 'ip', ['route', 'show', 'proto', '116'])).stdout;
      const neigh = (await nsExec(ns, 'ip', ['neigh', 'show', 'dev', 'flannel.1'])).stdout;
      const fdb = (await nsExec(ns, 'bridge', ['fdb', 'show', 'dev', 'flannel.1'])).stdout;
      const gateway = formatCidr(subnet).replace(/\/\d+$/, '');
      return [
        routes.includes(formatCidr(subnet)) ? 'route' : '',
        neigh.split('\n').some((l) => l.startsWith(`${gateway} `)) ? 'neigh' : '',
        fdb.includes(`dst ${gone.ip} `) ? 'fdb' : '',
      ].filter(Boolean);
    };
    for (const h of [lab.hosts[0]!, lab.hosts[1]!, lab.hosts[3]!]) {
      assert.deepEqual(await objectsFor(h.ns), ['route', 'neigh', 'fdb'], `${h.ns} has the peer's objects before`);
    }
    const del = await nsExec(lab.hosts[0]!.ns, 'etcdctl', ['--endpoints', etcd.endpoint, 'del', `/coreos.com/network/subnets/${key}`]);
    assert.equal(del.stdout.trim(), '1', del.stderr);
    // Its own agent exits 3 (lease revoked), like flanneld.
    assert.equal(await new Promise((r) => agents.get(gone.ns)!.once('exit', r)), 3);
    agents.delete(gone.ns);
    for (const h of [lab.hosts[0]!, lab.hosts[1]!, lab.hosts[3]!]) {
      const deadline = Date.now() + 5000;
      let left = await objectsFor(h.ns);
      while (left.length > 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        left = await objectsFor(h.ns);
      }
      assert.deepEqual(left, [], `${h.ns} still has ${left.join(', ')} for the deleted lease ${key} after 5 s`);
    }
    // The others still reach each other.
    assert.ok((await reachable(pods.get(lab.hosts[0]!.ns)!, pods.get(lab.hosts[3]!.ns)!, 3000)) >= 0);
  });
});
