// `tartan agent` as an operator runs it (health server on), walked through a fault
// table (issue 18): etcd lost and back, a second agent on one host, a duplicate
// PublicIP, its own lease rewritten by someone else, durations beyond their bounds,
// configs refused before the kernel is touched, and every exit path. Real agents in
// lab namespaces, the test's own etcd (inside host 1, stopped and restarted by PID).
// Writes are counted as etcd revisions over a window (no hot loop), /readyz and
// /healthz are asked from inside each host's namespace, exit times are measured.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { formatCidr } from '../../src/net/cidr.ts';
import { type EtcdServer, startEtcd } from '../support/etcd.ts';
import { stopChild } from '../support/process.ts';
import { waitFor } from '../support/wait.ts';
import { type HostSubnet, startLabAgent, subnetFileOf, waitSubnetEnv } from '../lab/agents.ts';
import { type Lab, type LabHost, type LabPod, createLab } from '../lab/lab.ts';
import { nsExec } from '../lab/netns.ts';
import { ping } from '../lab/ping.ts';

const root = process.getuid?.() === 0;
const SUBNETS = '/coreos.com/network/subnets';
const HEALTH_PORT = 9102;
const RESYNC = '2s';
/** C's lease: 2-minute TTL renewed 1 minute before expiry, so its first renewal falls inside the test. */
const C_RENEW_DUE_MS = 60_000;

interface Running {
  readonly host: LabHost;
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  subnet?: HostSubnet;
}

function watchExit(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

async function probe(ns: string, path: string): Promise<{ status: number; body: string }> {
  const r = await nsExec(ns, 'curl', ['-s', '--max-time', '1', '-w', '\n%{http_code}', `http://127.0.0.1:${HEALTH_PORT}${path}`], { timeoutMs: 3000 });
  const cut = r.stdout.lastIndexOf('\n');
  return { status: Number(r.stdout.slice(cut + 1)) || 0, body: r.stdout.slice(0, Math.max(0, cut)).trim() };
}

function leaseKey(s: HostSubnet): string {
  return formatCidr(s.cidr).replace('/', '-');
}

/** A flannel vxlan lease value. */
function vxlanValue(ip: string, mac: string): string {
  return JSON.stringify({ PublicIP: ip, BackendType: 'vxlan', BackendData: { VNI: 1, VtepMAC: mac } });
}

describe('agent torture (real agents in lab namespaces, own etcd, health server on)', { skip: root ? false : 'needs root for network namespaces' }, () => {
  let lab: Lab;
  let etcd: EtcdServer;
  const dir = mkdtempSync(join(tmpdir(), 'tartan-torture-agent-'));
  const running: Running[] = [];
  const config = join(dir, 'net-conf.json');

  const etcdctl = async (...args: string[]): Promise<string> => {
    const r = await nsExec(lab.hosts[0]!.ns, 'etcdctl', ['--endpoints', etcd.endpoint, '--command-timeout', '2s', ...args], { timeoutMs: 5000 });
    assert.equal(r.code, 0, `etcdctl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const revision = async (): Promise<number> => {
    const rows = JSON.parse(await etcdctl('endpoint', 'status', '-w', 'json')) as { Status: { header: { revision: number } } }[];
    return Number(rows[0]!.Status.header.revision);
  };
  const modRevision = async (key: string): Promise<number | undefined> => {
    const res = JSON.parse(await etcdctl('get', key, '-w', 'json')) as { kvs?: { mod_revision: number }[] };
    return res.kvs?.[0]?.mod_revision;
  };
  const logOf = (h: LabHost): string => readFileSync(join(dir, `${h.ns}.log`), 'utf8');
  const start = (h: LabHost, extraArgs: string[] = [], netConfigPath = config): Running => {
    const child = startLabAgent(h, { dir, etcdEndpoint: etcd.endpoint, netConfigPath, extraArgs: ['--resync-period', RESYNC, '--healthz-ip', '127.0.0.1', '--healthz-port', String(HEALTH_PORT), ...extraArgs] });
    const r = { host: h, child, exited: watchExit(child) };
    running.push(r);
    return r;
  };
  /** An agent that must stop by itself: its code, how long it ran, and what it logged. */
  const runToExit = async (h: LabHost, extraArgs: string[], netConfigPath = config): Promise<{ code: number | null; ms: number; log: string }> => {
    const file = join(dir, `${h.ns}.log`);
    let offset = 0;
    try {
      offset = statSync(file).size;
    } catch { /* first run on this host */ }
    const started = Date.now();
    const r = start(h, extraArgs, netConfigPath);
    const code = await Promise.race([r.exited, new Promise<'running'>((resolve) => setTimeout(() => resolve('running'), 20_000))]);
    if (code === 'running') await stopChild(r.child, 'SIGKILL');
    return { code: code === 'running' ? -1 : code, ms: Date.now() - started, log: readFileSync(file, 'utf8').slice(offset) };
  };
  const noVxlanDevice = async (h: LabHost): Promise<void> => {
    for (const dev of ['flannel.1', 'flannel-v6.1']) {
      const r = await nsExec(h.ns, 'ip', ['link', 'show', dev]);
      assert.notEqual(r.code, 0, `${dev} exists on ${h.ns}: the kernel was touched`);
    }
  };

  before(async () => {
    lab = await createLab({ hosts: 5, podsPerHost: 0 });
    const h1 = lab.hosts[0]!;
    process.env.NODE_COMPILE_CACHE ??= join(tmpdir(), 'tartan-node-compile-cache');
    etcd = await startEtcd({ netns: h1.ns, host: h1.ip });
    writeFileSync(config, JSON.stringify({ Network: lab.network, Backend: { Type: 'vxlan' } }));
  });
  after(async () => {
    for (const r of running) await stopChild(r.child, 'SIGKILL');
    await etcd?.destroy();
    await lab?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the fault table', async (t) => {
    const [h1, h2, h3, h4, h5] = lab.hosts as [LabHost, LabHost, LabHost, LabHost, LabHost];
    const a = start(h1);
    const b = start(h2);
    const c = start(h3, ['--subnet-lease-ttl', '2m', '--subnet-lease-renew-margin', '1']);
    const pods = new Map<Running, LabPod>();
    for (const r of [a, b, c]) r.subnet = await waitSubnetEnv(r.host, dir);
    const cUpAt = Date.now();
    for (const r of [a, b]) pods.set(r, (await lab.addPods(r.host, { subnet: r.subnet!.cidr, count: 1, mtu: r.subnet!.mtu }))[0]!);
    const reaches = async (from: Running, to: Running): Promise<boolean> => (await ping(pods.get(from)!.ns, pods.get(to)!.ip, { count: 3, interval: 0.2, timeout: 1 })).received >= 2;
    for (const r of [a, b, c]) await waitFor(`${r.host.ns} ready`, async () => (await probe(r.host.ns, '/readyz')).status === 200, { timeoutMs: 10_000, details: () => logOf(r.host) });
    await waitFor('pods reach each other', () => reaches(a, b), 10_000);

    // Own lease rewritten by someone else (C): an error logged once, not ready with that reason; no write back (checked at its renewal time below).
    const cKey = `${SUBNETS}/${leaseKey(c.subnet!)}`;
    await etcdctl('put', cKey, vxlanValue(h3.ip, '0e:de:ad:be:ef:01'));
    const rewrittenAt = Date.now();
    const rewrittenRevision = await modRevision(cKey);
    const cNotReady = await waitFor('C not ready, naming the rewrite', async () => {
      const r = await probe(h3.ns, '/readyz');
      return r.status === 503 && r.body.includes(`lease ${leaseKey(c.subnet!)} was rewritten by another writer`) ? r.body : undefined;
    }, { timeoutMs: 5000, details: () => logOf(h3) });
    t.diagnostic(`own lease rewritten → /readyz 503 after ${Date.now() - rewrittenAt} ms: ${cNotReady}`);
    assert.equal((await probe(h3.ns, '/healthz')).status, 200, 'a rewritten lease is not a liveness failure');

    // etcd stopped for 6 s, then restarted: agents stay up, live and ready (their last sync is fresh), idle, and resume.
    const revBefore = await revision();
    await etcd.stop();
    const stoppedAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 3000));
    for (const r of [a, b]) {
      assert.equal((await probe(r.host.ns, '/healthz')).status, 200, `${r.host.ns}: etcd gone is not a liveness failure`);
      assert.equal((await probe(r.host.ns, '/readyz')).status, 200, `${r.host.ns}: its last sync is within period + deadline, the data plane stands`);
    }
    assert.ok(await reaches(a, b), 'pods keep working without etcd');
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, 6000 - (Date.now() - stoppedAt))));
    await etcd.restart();
    const restartedAt = Date.now();
    for (const r of [a, b, c]) assert.equal(r.child.exitCode, null, `${r.host.ns} still running after the outage`);
    // Resumed: a new peer lease reaches both kernels through the re-established watch.
    const phantom = '10.42.99.0/24';
    await etcdctl('put', `${SUBNETS}/10.42.99.0-24`, vxlanValue('192.168.100.99', '0e:99:00:00:00:99'));
    await waitFor('the watch is back: a new peer lease is programmed', async () => {
      const seen = await Promise.all([h1, h2].map(async (h) => (await nsExec(h.ns, 'ip', ['route', 'show', phantom])).stdout.includes('flannel.1')));
      return seen.every(Boolean);
    }, { timeoutMs: 15_000, everyMs: 500, details: () => logOf(h1) });
    t.diagnostic(`etcd restarted → a new lease programmed on both hosts after ${Date.now() - restartedAt} ms`);
    await etcdctl('del', `${SUBNETS}/10.42.99.0-24`);
    const outageWrites = await revision() - revBefore;
    t.diagnostic(`etcd outage: ${outageWrites} revisions from before the stop to after the resume (2 are the test's own put and del)`);
    assert.ok(outageWrites <= 2, `the agents wrote nothing around an etcd outage: ${outageWrites} revisions`);
    const quietFrom = await revision();
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const quiet = await revision() - quietFrom;
    t.diagnostic(`after the outage: ${quiet} etcd revisions in 3 s from 3 agents`);
    assert.equal(quiet, 0, 'three agents at rest write nothing');
    for (const r of [a, b]) assert.equal((await probe(r.host.ns, '/readyz')).status, 200);

    // A second agent on host 1 (same subnet file) → exit 2 naming the holder's PID, before any side effect.
    const second = await runToExit(h5, ['--subnet-file', subnetFileOf(h1, dir)]);
    t.diagnostic(`second agent on one host → exit ${second.code} after ${second.ms} ms`);
    assert.equal(second.code, 2, second.log);
    assert.match(second.log, new RegExp(`another tartan agent \\(PID ${a.child.pid}\\) runs on this host`));
    assert.ok(second.ms < 6000, `the second agent took ${second.ms} ms to exit`);
    await noVxlanDevice(h5);

    // A duplicate PublicIP: host 4 claims host 2's address → refused naming the lease and B's MAC; B untouched, its pod still reached.
    const bKey = `${SUBNETS}/${leaseKey(b.subnet!)}`;
    const bRevision = await modRevision(bKey);
    const bMac = (JSON.parse(await etcdctl('get', bKey, '--print-value-only')) as { BackendData: { VtepMAC: string } }).BackendData.VtepMAC;
    const dup = await runToExit(h4, ['--public-ip', h2.ip]);
    t.diagnostic(`duplicate PublicIP → exit ${dup.code} after ${dup.ms} ms`);
    assert.equal(dup.code, 1, dup.log);
    assert.ok(dup.log.includes(`lease ${leaseKey(b.subnet!)} (PublicIP ${h2.ip})`) && dup.log.includes(`VtepMAC ${bMac}`), dup.log);
    assert.equal(await modRevision(bKey), bRevision, "B's lease was not written");
    assert.ok(await reaches(a, b), "the live host's pod is still reached");

    // Durations beyond their bounds (huge and tiny) → exit 2 at once, nothing touched.
    for (const bad of [['--subnet-lease-ttl', '1000h'], ['--resync-period', '1ms']]) {
      const r = await runToExit(h5, bad);
      t.diagnostic(`${bad.join(' ')} → exit ${r.code} after ${r.ms} ms`);
      assert.equal(r.code, 2, r.log);
      assert.ok(r.log.includes(bad[0]!) && r.log.includes(bad[1]!), r.log);
      assert.ok(r.ms < 6000, `${bad.join(' ')} took ${r.ms} ms to exit`);
    }

    // An IPv6-only config and an exhausted Network are refused before flannel-v6.1 / flannel.1 exist.
    const v6only = join(dir, 'v6only.json');
    writeFileSync(v6only, JSON.stringify({ EnableIPv4: false, EnableIPv6: true, IPv6Network: 'fd42::/48', Backend: { Type: 'vxlan' } }));
    const v6 = await runToExit(h5, ['--etcd-prefix', '/torture-v6only', '--public-ipv6', 'fd00::5'], v6only);
    t.diagnostic(`IPv6-only → exit ${v6.code} after ${v6.ms} ms`);
    assert.equal(v6.code, 2, v6.log);
    assert.match(v6.log, /IPv6-only networks are not supported/);
    await noVxlanDevice(h5);
    const full = join(dir, 'full.json');
    writeFileSync(full, JSON.stringify({ Network: '10.99.0.0/22', SubnetLen: 24, Backend: { Type: 'vxlan' } }));
    for (const s of ['10.99.0.0-24', '10.99.1.0-24', '10.99.2.0-24', '10.99.3.0-24']) await etcdctl('put', `/torture-full/subnets/${s}`, vxlanValue('192.168.100.77', '0e:77:00:00:00:77'));
    const exhausted = await runToExit(h5, ['--etcd-prefix', '/torture-full'], full);
    t.diagnostic(`exhausted Network → exit ${exhausted.code} after ${exhausted.ms} ms`);
    assert.equal(exhausted.code, 1, exhausted.log);
    assert.match(exhausted.log, /out of subnets: no free \/24 left in 10\.99\.0\.0\/22 \(checked before touching the kernel\)/);
    await noVxlanDevice(h5);

    // Back to C: past its renewal time, it has not written its lease back, logged the rewrite once, and is still not ready.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, cUpAt + C_RENEW_DUE_MS + 3000 - Date.now())));
    assert.equal(await modRevision(cKey), rewrittenRevision, `C wrote its lease back after it was rewritten:\n${logOf(h3)}`);
    assert.doesNotMatch(logOf(h3), /renewed lease/);
    assert.equal(logOf(h3).split('\n').filter((l) => l.includes('was rewritten by another writer')).length, 1, 'the rewrite is logged once');
    assert.equal((await probe(h3.ns, '/readyz')).status, 503);

    // Exits, each with the health server on: own lease deleted → 3; SIGTERM → 0.
    await etcdctl('del', cKey);
    const deletedAt = Date.now();
    const cCode = await Promise.race([c.exited, new Promise<string>((resolve) => setTimeout(() => resolve('still running'), 10_000))]);
    const cMs = Date.now() - deletedAt;
    t.diagnostic(`own lease deleted → exit ${cCode} after ${cMs} ms`);
    assert.equal(cCode, 3, logOf(h3));
    assert.ok(cMs < 5000, `exit 3 took ${cMs} ms`);
    for (const r of [a, b]) {
      const at = Date.now();
      const code = await stopChild(r.child, 'SIGTERM', 10_000);
      const ms = Date.now() - at;
      t.diagnostic(`${r.host.ns}: SIGTERM → exit ${code} after ${ms} ms`);
      assert.equal(code, 0, logOf(r.host));
      assert.ok(ms < 4000, `SIGTERM exit took ${ms} ms`);
    }
  });
});
