// A 3-member etcd (test/support/etcd.ts startEtcdCluster, 127.0.0.1) under real
// agents in lab namespaces and two `tartan controller` processes, all given the
// three endpoints. While pods ping each other at 50/s, the raft leader member is
// SIGKILLed, then a follower (the cluster is then without quorum), then both are
// restarted. No agent exits, no lease key or subnet.env changes, the controller
// leadership holds or moves (a controller that loses it exits 4 and is restarted, as
// by a Deployment) within TTL + etcd's 1 s lease extension + one poll of the time
// etcd could elect again, no cloud write is wrong or repeated, no ping is lost.
//
// The agents reach the members through relays (test/lab/relay.ts): one per member
// listening on host 1's address, joined by a Unix socket to one in this process
// that connects to 127.0.0.1 — no route or address in the root namespace.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { parseNetworkConfig } from '../../src/config/network.ts';
import { createEtcdClient } from '../../src/lease/etcd-client.ts';
import { EtcdLeaseStore } from '../../src/lease/index.ts';
import { formatCidr } from '../../src/net/cidr.ts';
import { type EtcdCluster, startEtcdCluster } from '../support/etcd.ts';
import { collectOutput, spawnTracked, stopChild } from '../support/process.ts';
import { startLabAgent, subnetFileOf, waitSubnetEnv } from '../lab/agents.ts';
import { type Lab, type LabPod, createLab } from '../lab/lab.ts';
import { pingSequence } from '../lab/ping.ts';
import { type Relay, startRelay } from '../lab/relay.ts';
import {
  type ControllerProcess, agentAttrs, awsControllerArgs, awsEnv, awsLeaderKey, createsPerRoute, mutatingCalls, spawnController, startAwsWorld, waitFor,
} from './controller-kit.ts';

const root = process.getuid?.() === 0;
const RELAY = fileURLToPath(new URL('../lab/relay.ts', import.meta.url));
const TTL_MS = 3000;
const PREFIX = '/tartan-e2e/etcd-cluster';
const SYNTHETIC = 4;
const keyOf = (identity: string): string => `AKID${identity.toUpperCase().replace('-', '')}`;

interface Sample { readonly t: number; readonly leader?: string | null; readonly leases?: readonly string[] }

/** Reads `leaderKey` and the lease keys every 100 ms until stopped (90 s at most). */
function sampleEtcd(endpoints: readonly string[], leaderKey: string): { samples: Sample[]; stop(): Promise<void> } {
  const client = createEtcdClient({ endpoints, callTimeoutMs: 1000 });
  const samples: Sample[] = [];
  const until = Date.now() + 90_000;
  let stopped = false;
  const loop = (async () => {
    while (!stopped && Date.now() < until) {
      const t = Date.now();
      const leader = await client.get(leaderKey).string().catch(() => undefined);
      const leases = await client.getAll().prefix(`${PREFIX}/subnets/`).keys().catch(() => undefined);
      samples.push({ t, ...(leader !== undefined ? { leader } : {}), ...(leases ? { leases } : {}) });
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return { samples, stop: async () => { stopped = true; await loop; client.close(); } };
}

/** After `identity` stopped at `at`: how long until the leader key names another process (-1: never). */
function takeoverMs(samples: readonly Sample[], identity: string, at: number): number {
  const next = samples.find((x) => x.t >= at && typeof x.leader === 'string' && x.leader !== identity);
  return next ? next.t - at : -1;
}

/** The longest time the leader key was seen absent (only samples that got an answer count). */
function longestLeaderless(samples: readonly Sample[], from: number, to: number): number {
  let longest = 0;
  let since: number | undefined;
  for (const s of samples.filter((x) => x.t >= from && x.t <= to && x.leader !== undefined)) {
    if (s.leader === null) since ??= s.t;
    else if (since !== undefined) {
      longest = Math.max(longest, s.t - since);
      since = undefined;
    }
  }
  return since !== undefined ? Math.max(longest, to - since) : longest;
}

describe('a 3-member etcd loses its leader and a follower under agents and two controllers', { skip: root ? false : 'needs root for network namespaces' }, () => {
  test('no agent exits, no lease lost, leadership within the TTL, no wrong cloud write, 0 pings lost', { timeout: 120_000 }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'tartan-etcd-cluster-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const cluster: EtcdCluster = await startEtcdCluster(3);
    t.after(() => cluster.destroy());
    const lab: Lab = await createLab({ hosts: 2, podsPerHost: 0 });
    t.after(() => lab.destroy());
    const [h1, h2] = lab.hosts as [typeof lab.hosts[0], typeof lab.hosts[0]];

    // Relays: host 1's address, port of member i → Unix socket i → 127.0.0.1, port of member i.
    const relays: Relay[] = [];
    const inNs: ChildProcess[] = [];
    t.after(async () => {
      for (const c of inNs) await stopChild(c);
      for (const r of relays) await r.close();
    });
    for (const [i, endpoint] of cluster.endpoints.entries()) {
      const port = Number(new URL(endpoint).port);
      const socket = join(dir, `etcd-${i}.sock`);
      relays.push(await startRelay({ listen: { path: socket }, connect: { host: '127.0.0.1', port } }));
      const child = spawnTracked('ip', ['netns', 'exec', h1.ns, process.execPath, RELAY, '--listen', `tcp:${h1.ip}:${port}`, '--connect', `unix:${socket}`]);
      inNs.push(child);
      const out = collectOutput(child);
      await waitFor(`relay ${i} in ${h1.ns}`, () => out.lines.some((l) => l.startsWith('{')), 15_000);
    }
    const labEndpoints = cluster.endpoints.map((e) => `http://${h1.ip}:${new URL(e).port}`).join(',');

    const client = createEtcdClient({ endpoints: cluster.endpoints });
    t.after(() => client.close());
    const configJson = JSON.stringify({ Network: lab.network, Backend: { Type: 'vxlan' } });
    await client.put(`${PREFIX}/config`).value(configJson).exec();
    const configPath = join(dir, 'net-conf.json');
    writeFileSync(configPath, configJson);

    // Agents.
    const agents = new Map<string, ChildProcess>();
    const agentExits: string[] = [];
    t.after(async () => {
      for (const a of agents.values()) await stopChild(a);
    });
    const pods: LabPod[] = [];
    for (const h of [h1, h2]) {
      const a = startLabAgent(h, { dir, etcdEndpoint: labEndpoints, netConfigPath: configPath, extraArgs: ['--etcd-prefix', PREFIX, '--resync-period', '120s'] });
      a.once('exit', (code, sig) => agentExits.push(`${h.ns} exited ${code ?? sig}`));
      agents.set(h.ns, a);
      const s = await waitSubnetEnv(h, dir);
      pods.push(...(await lab.addPods(h, { subnet: s.cidr, count: 1, mtu: s.mtu })));
    }
    const subnetEnvs = [h1, h2].map((h) => readFileSync(subnetFileOf(h, dir), 'utf8'));
    const store = new EtcdLeaseStore({ client, prefix: PREFIX });
    const atStart = (await store.list(AbortSignal.timeout(5000))).leases;
    const agentKeys = [h1, h2].map((h) => `${store.subnetsPrefix}${atStart.find((l) => l.attrs.publicIp === h.ip)?.key ?? `missing-${h.ip}`}`);
    const agentLog = (): string => [h1, h2].map((h) => `--- ${h.ns}\n${readFileSync(join(dir, `${h.ns}.log`), 'utf8')}`).join('\n');

    // The cloud: leases as hybrid agents in the VPC publish them, and two controllers.
    const world = await startAwsWorld({ spawned: true, tables: 1, quota: 50, instances: SYNTHETIC + 2 });
    t.after(() => world.close());
    const [table] = world.tables as [string];
    const config = parseNetworkConfig(configJson);
    const vpcHosts = world.hosts();
    for (const h of vpcHosts.slice(0, SYNTHETIC)) await store.acquire(config, { attrs: agentAttrs(h) }, AbortSignal.timeout(10_000));
    const args = awsControllerArgs(world, { etcd: cluster.endpoints.join(','), prefix: PREFIX, quota: 50, ttl: `${TTL_MS / 1000}s` });
    const controllers = new Map<string, ControllerProcess>();
    const controllerExits: { identity: string; code: number | null; at: number; why: string }[] = [];
    // As a Deployment would: a controller that exits is started again (exit 4 = leadership lost, restart clean).
    let supervising = true;
    // Each process has an identity of its own (ctl-a-1, ctl-a-2, …), so the leader key says which one leads.
    const supervise = (replica: string, generation = 1): void => {
      const identity = `${replica}-${generation}`;
      const c = spawnController({ identity, args, env: awsEnv(keyOf(replica)) });
      controllers.set(replica, c);
      void c.exited.then((code) => {
        if (!supervising) return;
        const why = c.output().split('\n').find((l) => l.includes('lost leadership')) ?? c.output().slice(-300);
        controllerExits.push({ identity, code, at: Date.now(), why });
        if (controllerExits.length <= 6) supervise(replica, generation + 1);
      });
    };
    const t0 = Date.now();
    for (const identity of ['ctl-a', 'ctl-b']) supervise(identity);
    t.after(async () => {
      supervising = false;
      for (const c of controllers.values()) await c.stop('SIGKILL');
    });
    const routesIn = async (): Promise<number> => (await world.admin.routes({ routeTableId: table })).filter((r) => r.origin === 'CreateRoute').length;
    await waitFor('the first routes', async () => (await routesIn()) === SYNTHETIC, {
      timeoutMs: 20_000, details: () => [...controllers.values()].map((c) => `--- ${c.identity}\n${c.output()}`).join('\n'),
    });

    const sampler = sampleEtcd(cluster.endpoints, awsLeaderKey(world, PREFIX));
    const pings = [pingSequence(pods[0]!.ns, pods[1]!.ip, { maxSeconds: 90 }), pingSequence(pods[1]!.ns, pods[0]!.ip, { maxSeconds: 90 })];
    await new Promise((r) => setTimeout(r, 2000));

    // 1. SIGKILL the raft leader member; the other two elect one.
    const first = await cluster.leaderIndex();
    assert.ok(first >= 0, 'etcd has a leader');
    const killedLeaderAt = Date.now();
    await cluster.members[first]!.stop('SIGKILL');
    const next = await waitFor('a new etcd leader', async () => {
      const i = await cluster.leaderIndex();
      return i >= 0 && i !== first ? i : undefined;
    }, 15_000);
    const etcdElectionMs = Date.now() - killedLeaderAt;
    // New leases while a member is down: the leading controller must create their routes, once.
    for (const h of vpcHosts.slice(SYNTHETIC)) await store.acquire(config, { attrs: agentAttrs(h) }, AbortSignal.timeout(10_000));
    await waitFor('routes of the leases added with a member down', async () => (await routesIn()) === SYNTHETIC + 2, 15_000);
    await new Promise((r) => setTimeout(r, TTL_MS + 1000));

    // 2. SIGKILL a follower: one member of three is left, without quorum.
    const follower = [0, 1, 2].find((i) => i !== first && i !== next)!;
    const killedFollowerAt = Date.now();
    await cluster.members[follower]!.stop('SIGKILL');
    await new Promise((r) => setTimeout(r, 3000));

    // 3. Restart both; wait for a quorum and then for a leader key within the TTL.
    const restartAt = Date.now();
    await Promise.all([cluster.members[first]!.restart(), cluster.members[follower]!.restart()]);
    await waitFor('etcd leader after restarts', async () => ((await cluster.leaderIndex()) >= 0 ? true : undefined), 20_000);
    const quorumAt = Date.now();
    await new Promise((r) => setTimeout(r, TTL_MS + 2000));
    const endAt = Date.now();

    const results = await Promise.all(pings.map((p) => p.stop()));
    await sampler.stop();
    supervising = false;
    const s = sampler.samples;

    // Figures.
    const leaderless1 = longestLeaderless(s, killedLeaderAt, killedFollowerAt);
    const leaderless3 = longestLeaderless(s, quorumAt, endAt);
    const holders = [...new Set(s.map((x) => x.leader).filter((l): l is string => typeof l === 'string'))];
    t.diagnostic(`etcd: leader m${first} SIGKILLed, m${next} elected in ${etcdElectionMs} ms; follower m${follower} SIGKILLed ${killedFollowerAt - killedLeaderAt} ms later; both restarted, quorum back ${quorumAt - restartAt} ms after restart`);
    // Counted from when etcd could act again: its new raft leader (after the leader kill) or
    // the quorum's return (a leadership lost while there was none).
    const etcdBack = (at: number): number => (at >= killedFollowerAt ? Math.max(at, quorumAt) : Math.max(at, killedLeaderAt + etcdElectionMs));
    const takeovers = controllerExits.map((e) => ({ ...e, from: etcdBack(e.at), ms: takeoverMs(s, e.identity, etcdBack(e.at)) }));
    t.diagnostic(`controller leaderless: ≤${leaderless1} ms with a member down, ≤${leaderless3} ms after quorum came back; leader key held by ${holders.join(', ')}`);
    for (const e of takeovers) {
      t.diagnostic(`${e.identity} exited ${e.code} at +${e.at - killedLeaderAt} ms after the leader kill; next leader ${e.ms} ms after etcd could act (${e.ms + e.from - e.at} ms after the exit); ${e.why.slice(0, 300)}`);
    }
    t.diagnostic(`pings: ${results.map((r) => `${r.answered} answered, ${r.missing.length} lost`).join('; ')}`);

    // Agents and their leases.
    assert.deepEqual(agentExits, [], agentLog());
    for (const [i, h] of [h1, h2].entries()) assert.equal(readFileSync(subnetFileOf(h, dir), 'utf8'), subnetEnvs[i], `${h.ns} subnet.env unchanged`);
    const atEnd = (await store.list(AbortSignal.timeout(5000))).leases;
    assert.deepEqual([h1, h2].map((h) => atEnd.find((l) => l.attrs.publicIp === h.ip)?.key), agentKeys.map((k) => k.slice(store.subnetsPrefix.length)), 'the agents hold the same lease keys at the end');
    const answered = s.filter((x) => x.leases !== undefined);
    assert.ok(answered.length > 20, `the sampler got answers (${answered.length})`);
    const missingAt = answered.filter((x) => !agentKeys.every((k) => x.leases!.includes(k))).map((x) => x.t - t0);
    assert.deepEqual(missingAt, [], 'an agent lease key was missing at these times (ms)');

    // Controller leadership.
    assert.ok(leaderless1 <= TTL_MS, `leaderless for ${leaderless1} ms while etcd had quorum (TTL ${TTL_MS} ms)`);
    assert.ok(leaderless3 <= TTL_MS, `leaderless for ${leaderless3} ms after quorum came back (TTL ${TTL_MS} ms)`);
    // An exit is a lost leadership (exit 4; a standby exits with nothing to lose only on a bug).
    assert.deepEqual(takeovers.filter((e) => e.code !== 4).map((e) => `${e.identity} ${e.code}`), [], 'controllers exit only with 4');
    // Its key lives at most a TTL after its last keepalive, and a new raft leader extends
    // every etcd lease by the election timeout (1 s); the standby polls every TTL/5.
    const bound = TTL_MS + 1000 + TTL_MS / 5 + 200;
    for (const e of takeovers) assert.ok(e.ms >= 0 && e.ms <= bound, `takeover after ${e.identity} exited took ${e.ms} ms from etcd's return (bound ${bound} ms, TTL ${TTL_MS} ms)`);
    assert.ok(s.filter((x) => x.t >= endAt - 1000).some((x) => typeof x.leader === 'string'), 'a controller leads at the end');

    // Cloud writes: only CreateRoute, each route once, each to its instance.
    const calls = await world.admin.calls();
    const writes = mutatingCalls(calls).filter((c) => c.action !== 'ModifyInstanceAttribute');
    assert.deepEqual(writes.filter((c) => c.action !== 'CreateRoute' || c.code !== 'ok').map((c) => `${c.action} ${c.code}`), [], 'no DeleteRoute, no ReplaceRoute, no failed create');
    const creates = createsPerRoute(calls);
    assert.equal(creates.size, SYNTHETIC + 2);
    assert.deepEqual([...creates.entries()].filter(([, n]) => n !== 1), [], 'each route created once');
    const routes = new Map((await world.admin.routes({ routeTableId: table })).map((r) => [r.destination, r.target.instanceId]));
    const leases = (await store.list(AbortSignal.timeout(5000))).leases;
    for (const [i, h] of vpcHosts.entries()) {
      const lease = leases.find((l) => l.attrs.publicIp === h.ip);
      assert.ok(lease, `lease of ${h.ip}`);
      assert.equal(routes.get(formatCidr(lease.subnet)), world.instances[i]!.id, `the route of ${h.ip}'s subnet targets its instance`);
    }

    // Pings.
    for (const r of results) {
      assert.ok(r.answered > 500, `pings answered: ${r.answered}`);
      assert.deepEqual(r.missing, [], 'pings lost');
    }
  });
});
