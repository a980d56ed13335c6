// Kernel data-plane bench, inside network namespaces it creates:
//   cold programming of 5,000 vxlan peers vs a raw ip/bridge -batch of the same objects,
//   one peer added at 5,000 (event path), a steady-state resync at 5,000 (time + CPU),
//   and iperf3 pod-to-pod per backend. The agent's memory with 5,000 peers is
//   agent-memory.bench.ts (the real agent process, with etcd).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import type { BenchOptions, BenchRow } from './result.ts';
import type { Backend } from '../../src/agent/backend.ts';
import { createVxlanBackend } from '../../src/agent/backends/index.ts';
import { parseNetworkConfig } from '../../src/config/network.ts';
import { silentLogger } from '../../src/observe/log.ts';
import { type BenchHost, createBenchHost, rawVxlanBatches, syntheticPeer } from '../lab/bench-host.ts';
import { iperf, mtuCounters } from '../lab/iperf.ts';
import { createLab, startCluster } from '../lab/index.ts';
import { nsExec, runChecked } from '../lab/netns.ts';
import { LeaseValidator, readerAddress } from '../../src/lease/validate.ts';

const SUITE = 'kernel';
const PEERS = 5000;
const OWN = { subnet: { family: 4 as const, addr: BigInt(((10 << 24) >>> 0) + 255 * 65536 + 255 * 256), prefix: 24 } };
const network = parseNetworkConfig(JSON.stringify({ Network: '10.0.0.0/8', Backend: { Type: 'vxlan' } }));
const signal = new AbortController().signal;

async function vxlanOn(host: BenchHost): Promise<Backend> {
  const backend = createVxlanBackend({ network, iface: host.iface, log: silentLogger(), netns: host.ns });
  await backend.prepare(signal);
  await backend.activate(OWN, signal);
  return backend;
}

const ms = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e6;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const percentile = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!;

async function countRoutes(ns: string): Promise<number> {
  return (await runChecked('ip', ['-n', ns, 'route', 'show', 'proto', '116'])).split('\n').filter((l) => l.trim()).length;
}

/** One cold run each: tartan into a fresh host (the agent validates, then reconciles), the raw batches into another. */
async function coldRun(): Promise<{ tartan: number; raw: number; validate: number }> {
  const peers = Array.from({ length: PEERS }, (_, i) => syntheticPeer(i));
  const [a, b] = [await createBenchHost('ca'), await createBenchHost('cb')];
  try {
    const backend = await vxlanOn(a);
    let t = process.hrtime.bigint();
    const view = new LeaseValidator({ config: network, reader: { addresses: new Set([readerAddress(a.iface.publicIp)]) } }).validate(peers);
    const validate = ms(t);
    if (view.valid.length !== PEERS) throw new Error(`the validator set aside ${view.invalid.length} synthetic peers: ${view.invalid[0]?.message}`);
    await backend.reconcile(view.valid, signal);
    const tartan = ms(t);
    await vxlanOn(b); // same device in the raw namespace, then the same objects by hand
    const raw = rawVxlanBatches(peers);
    t = process.hrtime.bigint();
    await runChecked('bridge', ['-n', b.ns, '-force', '-batch', '-'], { input: raw.bridge });
    await runChecked('ip', ['-n', b.ns, '-force', '-batch', '-'], { input: raw.ip });
    const rawMs = ms(t);
    const [ra, rb] = [await countRoutes(a.ns), await countRoutes(b.ns)];
    if (ra !== PEERS || rb !== PEERS) throw new Error(`expected ${PEERS} routes, tartan has ${ra}, raw has ${rb}`);
    return { tartan, raw: rawMs, validate };
  } finally {
    await a.destroy();
    await b.destroy();
  }
}

async function coldRows(quick: boolean): Promise<BenchRow[]> {
  const runs: Array<{ tartan: number; raw: number; validate: number }> = [];
  for (let i = 0; i < (quick ? 3 : 5); i++) runs.push(await coldRun());
  const tartan = median(runs.map((r) => r.tartan));
  const raw = median(runs.map((r) => r.raw));
  const ratio = tartan / raw;
  const note = `${PEERS * 3} objects; median of ${runs.length}`;
  return [
    { suite: SUITE, metric: `cold: ${PEERS} vxlan peers, tartan reconcile`, value: tartan, unit: 'ms', note },
    { suite: SUITE, metric: `cold: ${PEERS} vxlan peers, raw ip/bridge -batch`, value: raw, unit: 'ms', note },
    { suite: SUITE, metric: 'cold: tartan / raw', value: ratio, unit: 'x', target: '≤ 1.5', met: ratio <= 1.5 },
    {
      suite: SUITE, metric: `cold: validating the ${PEERS} leases / the whole cold start`, value: median(runs.map((r) => r.validate / r.tartan)), unit: 'x',
      target: '≤ 0.05', met: median(runs.map((r) => r.validate / r.tartan)) <= 0.05, note: `validation ${median(runs.map((r) => r.validate)).toFixed(1)} ms (a fresh validator: nothing cached)`,
    },
  ];
}

/** /proc/self/stat cutime + cstime: CPU of waited-for children, in ms. */
function childCpuMs(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / ticks;
}

async function warmRows(quick: boolean): Promise<BenchRow[]> {
  const host = await createBenchHost('w');
  try {
    const backend = await vxlanOn(host);
    const peers = Array.from({ length: PEERS }, (_, i) => syntheticPeer(i));
    await backend.reconcile(peers, signal);
    const adds: number[] = [];
    for (let k = 0; k < (quick ? 20 : 50); k++) {
      const peer = syntheticPeer(PEERS + k);
      peers.push(peer);
      const t = process.hrtime.bigint();
      await backend.reconcile(peers, signal);
      adds.push(ms(t));
      const dst = peer.key.replace('-', '/');
      const present = await runChecked('ip', ['-n', host.ns, 'route', 'show', dst, 'proto', '116']);
      if (!present.includes('onlink')) throw new Error(`route ${dst} missing after reconcile`);
    }
    const resyncs = quick ? 3 : 10;
    const cpu0 = process.cpuUsage();
    const child0 = childCpuMs();
    const t = process.hrtime.bigint();
    for (let k = 0; k < resyncs; k++) await backend.reconcile(peers, signal, { observe: true });
    const wall = ms(t) / resyncs;
    const cpu = process.cpuUsage(cpu0);
    const selfCpu = (cpu.user + cpu.system) / 1000 / resyncs;
    const childCpu = (childCpuMs() - child0) / resyncs;
    const p99 = percentile(adds, 99);
    const n = peers.length;
    return [
      { suite: SUITE, metric: `add 1 peer at ${PEERS}: reconcile → in kernel, median`, value: median(adds), unit: 'ms', note: `${adds.length} adds` },
      { suite: SUITE, metric: `add 1 peer at ${PEERS}: p99`, value: p99, unit: 'ms', target: '< 50', met: p99 < 50,
        note: `1-min load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} CPUs` },
      { suite: SUITE, metric: `resync at ${n} peers, nothing to change: wall`, value: wall, unit: 'ms', note: `mean of ${resyncs}` },
      { suite: SUITE, metric: `resync at ${n} peers: CPU (node)`, value: selfCpu, unit: 'ms' },
      { suite: SUITE, metric: `resync at ${n} peers: CPU (ip/bridge children)`, value: childCpu, unit: 'ms', note: '10 ms tick resolution' },
    ];
  } finally {
    await host.destroy();
  }
}

async function iperfRows(quick: boolean): Promise<BenchRow[]> {
  const seconds = quick ? 2 : 5;
  const rows: BenchRow[] = [];
  for (const type of ['host-gw', 'vxlan'] as const) {
    const lab = await createLab({ hosts: 2, podsPerHost: 1 });
    try {
      const cluster = await startCluster(lab, { backend: { Type: type } });
      const [h1, h2] = lab.hosts as [typeof lab.hosts[0], typeof lab.hosts[0]];
      if (type === 'host-gw') {
        const r = await iperf({ serverNs: h2.ns, serverIp: h2.ip, clientNs: h1.ns, seconds });
        rows.push(row('raw veth underlay, host → host', r, `MTU 1500, retransmits ${r.retransmits}`));
      }
      const mtu = cluster.nodes[0]!.prepared.mtu;
      const df = await nsExec(h1.pods[0]!.ns, 'ping', ['-c', '1', '-W', '2', '-M', 'do', '-s', String(mtu - 28), h2.pods[0]!.ip]);
      const before = await Promise.all([mtuCounters(h1.ns), mtuCounters(h2.ns)]);
      const r = await iperf({ serverNs: h2.pods[0]!.ns, serverIp: h2.pods[0]!.ip, clientNs: h1.pods[0]!.ns, seconds });
      const after = await Promise.all([mtuCounters(h1.ns), mtuCounters(h2.ns)]);
      const frags = after.reduce((s, c, i) => s + c.fragCreates - before[i]!.fragCreates, 0);
      const unreach = after.reduce((s, c, i) => s + c.destUnreachs - before[i]!.destUnreachs, 0);
      rows.push(row(`${type}, pod → pod across hosts`, r,
        `pod MTU ${mtu}, underlay 1500; DF ping of ${mtu} B ${df.code === 0 ? 'ok' : 'FAILED'}; fragments ${frags}, ICMP unreachable ${unreach}; retransmits ${r.retransmits}`));
    } finally {
      await lab.destroy();
    }
  }
  return rows;

  function row(what: string, r: { bitsPerSecond: number }, note: string): BenchRow {
    return { suite: SUITE, metric: `iperf3 TCP ${seconds} s: ${what}`, value: r.bitsPerSecond / 1e9, unit: 'Gbit/s', note };
  }
}

export default async function kernelBench(opts: BenchOptions): Promise<BenchRow[]> {
  if (process.getuid?.() !== 0) {
    return [{ suite: SUITE, metric: 'skipped', value: 0, unit: '', note: 'needs root (network namespaces)' }];
  }
  return [...(await coldRows(opts.quick)), ...(await warmRows(opts.quick)), ...(await iperfRows(opts.quick))];
}
