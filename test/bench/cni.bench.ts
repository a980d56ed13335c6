// CNI latency, inside lab namespaces: what tartan's plugin adds to every pod's ADD and DEL.
//   start-up: VERSION of the single executable (npm run build:cni, built here) vs the CLI
//     (node bin/tartan.js) vs Debian's bridge plugin (Go) vs an empty Node (`node -e 0`)
//   ADD / DEL p50 and p99 over 100 pods on one vxlan agent host, as a runtime runs a conflist
//     (test/lab/cni-runtime.ts, `ip netns exec` included on both sides): tartan's executable
//     (flannel → bridge + host-local) and the bare bridge + host-local with the very config
//     flannel hands the bridge (its own bridge device and subnet), pods interleaved; the
//     ratio and the milliseconds tartan adds (target ≤ 50 ms at p50)
//   pod start (ADD begins) to the first ping answered by a pod on the other host, p50.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import type { BenchOptions, BenchRow } from './result.ts';
import { buildCniExecutable } from '../../scripts/build-cni.ts';
import { buildDelegate } from '../../src/cni/delegate.ts';
import { parseNetConf } from '../../src/cni/netconf.ts';
import { parseSubnetFile } from '../../src/cni/subnet-file.ts';
import { startEtcd } from '../support/etcd.ts';
import { stopChild } from '../support/process.ts';
import { startLabAgent, subnetFileOf, waitSubnetEnv } from '../lab/agents.ts';
import { type CniPod, type CniRuntime, cniRuntime, podIp } from '../lab/cni-runtime.ts';
import { type Lab, type LabHost, createLab } from '../lab/lab.ts';
import { createNamespace, deleteNamespace } from '../lab/netns.ts';
import { ping } from '../lab/ping.ts';

const SUITE = 'cni';
const TARTAN_CLI = fileURLToPath(new URL('../../bin/tartan.js', import.meta.url));
const TARGET_ADDED_MS = 50;

/** Start-up and latency here are mostly CPU (Node's own start is ~30 ms of it): a busy machine stretches them. */
const load = (): string => `1-min load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} CPUs`;
const percentile = (xs: readonly number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!;

/** Median wall time of `runs` runs of `cmd` with CNI_COMMAND=VERSION (spawn to exit). */
function startup(cmd: string, args: readonly string[], runs: number): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    const res = spawnSync(cmd, args, { env: { ...process.env, CNI_COMMAND: 'VERSION' }, stdio: ['ignore', 'pipe', 'pipe'] });
    times.push(performance.now() - t);
    if (res.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: VERSION exited ${res.status}: ${String(res.stderr)}`);
  }
  return percentile(times, 50);
}

function startupRows(exe: string, runs: number): BenchRow[] {
  const note = `p50 of ${runs} runs, spawn to exit; ${load()}`;
  const row = (metric: string, value: number): BenchRow => ({ suite: SUITE, metric: `start-up (VERSION): ${metric}`, value, unit: 'ms', note });
  return [
    row('tartan-cni single executable', startup(exe, [], runs)),
    row('node bin/tartan.js (the CLI)', startup(process.execPath, [TARTAN_CLI], runs)),
    row('bridge plugin (Go)', startup('/usr/lib/cni/bridge', [], runs)),
    row("node -e 0 (Node's own floor)", startup(process.execPath, ['-e', '0'], runs)),
  ];
}

interface Chain {
  readonly name: string;
  readonly runtime: CniRuntime;
  /** Wall ms per ADD / DEL, and CPU ms (the plugins' and their delegates' user + sys). */
  readonly add: number[];
  readonly del: number[];
  readonly addCpu: number[];
  readonly delCpu: number[];
}

/**
 * The two chains on `h` (state under `stateDir`): tartan's flannel, and the bare bridge +
 * host-local with the config flannel hands the bridge (its own bridge device and subnet).
 */
function chains(h: LabHost, o: { subnetFile: string; stateDir: string; bin: string }): [Chain, Chain] {
  const flannel = { type: 'flannel', subnetFile: o.subnetFile, dataDir: join(o.stateDir, 'flannel'), ipam: { dataDir: join(o.stateDir, 'ipam') } };
  const conf = { name: 'cbr0', cniVersion: '1.0.0' };
  const delegate = buildDelegate(parseNetConf(JSON.stringify({ ...conf, ...flannel })), parseSubnetFile(flannel.subnetFile, readFileSync(flannel.subnetFile, 'utf8')));
  const bare = {
    ...delegate, bridge: 'cnibare0',
    ipam: { ...(delegate['ipam'] as object), ranges: [[{ subnet: '10.43.0.0/24' }]], dataDir: join(o.stateDir, 'ipam-bare') },
  };
  const runtime = (name: string, plugin: Record<string, unknown>): CniRuntime =>
    cniRuntime({ hostNs: h.ns, binDir: o.bin, conflist: { name, cniVersion: conf.cniVersion, plugins: [plugin] }, measureCpu: true });
  const chain = (name: string, runtime: CniRuntime): Chain => ({ name, runtime, add: [], del: [], addCpu: [], delCpu: [] });
  return [chain('tartan (flannel → bridge + host-local)', runtime(conf.name, flannel)), chain('bare bridge + host-local', runtime('bare', bare))];
}

async function latencyRows(lab: Lab, dir: string, bin: string, pods: number): Promise<BenchRow[]> {
  const h = lab.hosts[0]!;
  const [tartan, bare] = chains(h, { subnetFile: subnetFileOf(h, dir), stateDir: dir, bin });
  const made: { chain: Chain; pod: CniPod }[] = [];
  for (let i = 0; i < pods; i++) {
    for (const chain of [tartan, bare]) {
      const ns = `tt-${lab.id}-b${made.length}`;
      await createNamespace(ns);
      const pod = { id: `bench-${made.length}`, netns: `/var/run/netns/${ns}` };
      const out = await chain.runtime.add(pod);
      if (!out.ok) throw new Error(`${chain.name} ADD ${pod.id}: ${JSON.stringify(out.error)}`);
      chain.add.push(out.ms);
      chain.addCpu.push(out.cpuMs ?? NaN);
      made.push({ chain, pod });
    }
  }
  for (const { chain, pod } of made) {
    const out = await chain.runtime.del(pod);
    if (!out.ok) throw new Error(`${chain.name} DEL ${pod.id}: ${JSON.stringify(out.error)}`);
    chain.del.push(out.ms);
    chain.delCpu.push(out.cpuMs ?? NaN);
    await deleteNamespace(pod.netns.slice('/var/run/netns/'.length));
  }
  const note = `${pods} pods each, interleaved, one vxlan agent host; ip netns exec and bash (for times) included on both sides; ${load()}`;
  const rows: BenchRow[] = [];
  for (const op of ['add', 'del'] as const) {
    const OP = op.toUpperCase();
    for (const chain of [tartan, bare]) {
      for (const p of [50, 99]) rows.push({ suite: SUITE, metric: `${OP} p${p}: ${chain.name}`, value: percentile(chain[op], p), unit: 'ms', note });
    }
    const [t50, b50] = [percentile(tartan[op], 50), percentile(bare[op], 50)];
    rows.push({ suite: SUITE, metric: `${OP} p50: tartan / bare`, value: t50 / b50, unit: 'x' });
    rows.push({
      suite: SUITE, metric: `${OP} p50: added by tartan's plugin`, value: t50 - b50, unit: 'ms',
      target: `≤ ${TARGET_ADDED_MS}`, met: t50 - b50 <= TARGET_ADDED_MS, note: load(),
    });
    const cpu = op === 'add' ? 'addCpu' : 'delCpu';
    const [tc, bc] = [percentile(tartan[cpu], 50), percentile(bare[cpu], 50)];
    rows.push({ suite: SUITE, metric: `${OP} CPU p50: tartan / bare (added ${(tc - bc).toFixed(1)} ms)`, value: tc / bc, unit: 'x',
      note: `user + sys of the plugins and their delegates: tartan ${tc.toFixed(1)} ms, bare ${bc.toFixed(1)} ms (a busy machine stretches wall time, far less CPU time)` });
  }
  return rows;
}

/** Pod start (ADD begins) to the first ping answered by a pod on the other host, p50 over `pods` pods. */
async function firstPingRow(lab: Lab, dir: string, bin: string, pods: number): Promise<BenchRow> {
  const [h1, h2] = [lab.hosts[0]!, lab.hosts[1]!];
  const [tartan1] = chains(h1, { subnetFile: subnetFileOf(h1, dir), stateDir: dir, bin });
  const [tartan2] = chains(h2, { subnetFile: subnetFileOf(h2, dir), stateDir: join(dir, 'h2'), bin });
  const targetNs = `tt-${lab.id}-target`;
  await createNamespace(targetNs);
  const target = { id: 'target', netns: `/var/run/netns/${targetNs}` };
  const targetIp = podIp((await tartan2.runtime.add(target)).result);
  if (!targetIp) throw new Error('the target pod on host 2 got no address');
  const times: number[] = [];
  for (let i = 0; i < pods; i++) {
    const ns = `tt-${lab.id}-f${i}`;
    await createNamespace(ns);
    const pod = { id: `first-${i}`, netns: `/var/run/netns/${ns}` };
    const t = performance.now();
    const out = await tartan1.runtime.add(pod);
    if (!out.ok) throw new Error(`ADD ${pod.id}: ${JSON.stringify(out.error)}`);
    let answered = false;
    for (let attempt = 0; attempt < 100 && !answered; attempt++) answered = (await ping(ns, targetIp, { count: 1, timeout: 0.2 })).received === 1;
    if (!answered) throw new Error(`pod ${pod.id} never reached ${targetIp}`);
    times.push(performance.now() - t);
    await tartan1.runtime.del(pod);
    await deleteNamespace(ns);
  }
  await tartan2.runtime.del(target);
  await deleteNamespace(targetNs);
  return {
    suite: SUITE, metric: 'pod start (ADD begins) → first cross-host ping answered, p50', value: percentile(times, 50), unit: 'ms',
    note: `${pods} pods through tartan's executable; ping -c 1 (ip netns exec) included`,
  };
}

export default async function cniBench(opts: BenchOptions): Promise<BenchRow[]> {
  if (process.getuid?.() !== 0) throw new Error('the CNI bench needs root (network namespaces)');
  const pods = opts.quick ? 20 : 100;
  const dir = mkdtempSync(join(tmpdir(), 'tartan-cni-bench-'));
  const agents: ChildProcess[] = [];
  let lab: Lab | undefined;
  let etcd: Awaited<ReturnType<typeof startEtcd>> | undefined;
  try {
    const exe = await buildCniExecutable(join(dir, 'build'));
    const rows = startupRows(exe, opts.quick ? 10 : 30);
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    copyFileSync(exe, join(bin, 'flannel'));
    for (const p of ['bridge', 'host-local']) symlinkSync(`/usr/lib/cni/${p}`, join(bin, p));
    lab = await createLab({ hosts: 2, podsPerHost: 0 });
    etcd = await startEtcd({ netns: lab.hosts[0]!.ns, host: lab.hosts[0]!.ip });
    writeFileSync(join(dir, 'net-conf.json'), JSON.stringify({ Network: lab.network, Backend: { Type: 'vxlan' } }));
    for (const h of lab.hosts) agents.push(startLabAgent(h, { dir, etcdEndpoint: etcd.endpoint, netConfigPath: join(dir, 'net-conf.json') }));
    for (const h of lab.hosts) await waitSubnetEnv(h, dir);
    rows.push(...await latencyRows(lab, dir, bin, pods));
    rows.push(await firstPingRow(lab, dir, bin, opts.quick ? 5 : 20));
    return rows;
  } finally {
    for (const a of agents) await stopChild(a);
    await etcd?.destroy();
    await lab?.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}
