// Hybrid path choice:
//   1. choosePaths (pure) for 5,000 peers — time per full plan, median over repeats;
//   2. in the hybrid lab (real agents and controller, EC2 emulator as the VPC): from
//      "route programmed" (the controller's put of <prefix>/routes/<key>, seen by an
//      etcd watch in this process) to the agent having removed that peer's vxlan
//      route, neigh and fdb entries (ip/bridge monitor in the host's namespace).
//      Each round starts the controller with every cloud pair on vxlan; n cloud hosts
//      give n × (n − 1) samples per round. Between rounds the statuses and routes go
//      away again (controller stopped) and the agents fall back to vxlan.
import type { Etcd3 } from 'etcd3';
import type { BenchOptions, BenchRow } from './result.ts';
import { choosePaths } from '../../src/agent/path.ts';
import { type JsonValue, type Lease, type RouteStatus, subnetKey } from '../../src/lease/index.ts';
import { formatCidr } from '../../src/net/cidr.ts';
import { startEtcd } from '../support/etcd.ts';
import { type HybridHost, subnetAddress } from '../lab/hybrid.ts';
import { waitFor } from '../lab/hybrid-cluster.ts';
import { observePaths, pathTable } from '../lab/hybrid-paths.ts';
import { type HybridWorld, startHybridWorld } from '../lab/hybrid-world.ts';
import { type KernelTimeline, kernelTimeline } from '../lab/timeline.ts';

const SUITE = 'hybrid';
const PEERS = 5000;
const DOMAIN = 'aws:vpc-0bench';

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** 5,000 peers: 80 % in this host's VPC (of which 90 % programmed, the rest overflow), 10 % on-prem, 10 % flannel leases. */
function syntheticPeers(): { peers: Lease[]; status: Map<string, RouteStatus> } {
  const peers: Lease[] = [];
  const status = new Map<string, RouteStatus>();
  for (let i = 0; i < PEERS; i++) {
    const subnet = { family: 4 as const, addr: BigInt((10 << 24) >>> 0) + BigInt(i + 1) * 256n, prefix: 24 };
    const kind = i % 10;
    const data: Record<string, JsonValue> = { VNI: 1, VtepMAC: `0e:00:00:${((i >> 16) & 255).toString(16).padStart(2, '0')}:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}` };
    if (kind < 8) data.RouteDomain = DOMAIN;
    else if (kind === 8) data.RouteDomain = 'none';
    const key = subnetKey(subnet);
    peers.push({ key, subnet, attrs: { publicIp: `172.16.${i >> 8}.${i & 255}`, backendType: 'vxlan', backendData: data }, reservation: false, revision: i + 1 });
    if (kind < 8) status.set(key, { state: Math.floor(i / 10) % 10 === 9 ? 'overflow' : 'programmed', tables: {} });
  }
  return { peers, status };
}

function planRows(quick: boolean): BenchRow[] {
  const { peers, status } = syntheticPeers();
  const repeats = quick ? 50 : 500;
  for (let i = 0; i < 20; i++) choosePaths({ routeDomain: DOMAIN, peers, status });
  const times: number[] = [];
  let cloud = 0;
  for (let i = 0; i < repeats; i++) {
    const t = process.hrtime.bigint();
    cloud = choosePaths({ routeDomain: DOMAIN, peers, status }).cloud.length;
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return [{ suite: SUITE, metric: `choosePaths: ${PEERS} peers, one full plan (median)`, value: median(times), unit: 'ms', note: `${repeats} plans; ${cloud} cloud, ${PEERS - cloud} kernel` }];
}

interface Round {
  readonly samples: number[];
  readonly routeOnly: number[];
}

/** Times at which a watch in this process saw each key's first `programmed` status. */
async function watchProgrammed(client: Etcd3, prefix: string): Promise<{ seen: Map<string, number>; close(): Promise<void> }> {
  const seen = new Map<string, number>();
  const watcher = await client.watch().prefix(`${prefix}/routes/`).create();
  watcher.on('put', (kv) => {
    const at = Date.now();
    const key = kv.key.toString().slice(`${prefix}/routes/`.length);
    if (!seen.has(key) && (JSON.parse(kv.value.toString()) as { state?: string }).state === 'programmed') seen.set(key, at);
  });
  return { seen, close: () => watcher.cancel() };
}

/** When `host` removed its vxlan route, neigh and fdb entries for `peer` (undefined until all three are gone). */
function removedAt(t: KernelTimeline, peer: HybridHost): { all: number; route: number } | undefined {
  const find = (match: (line: string) => boolean): number | undefined => t.events.find((e) => e.line.startsWith('Deleted ') && match(e.line))?.at;
  const route = find((l) => l.startsWith(`Deleted ${formatCidr(peer.subnet)} `) && l.includes('flannel.1'));
  const neigh = find((l) => l.startsWith(`Deleted ${subnetAddress(peer.subnet)} dev flannel.1`));
  const fdb = find((l) => l.includes('dev flannel.1') && l.includes(`dst ${peer.ip} `));
  return route !== undefined && neigh !== undefined && fdb !== undefined ? { all: Math.max(route, neigh, fdb), route } : undefined;
}

async function round(world: HybridWorld): Promise<Round> {
  const { lab, vpc, cluster } = world;
  const hosts = lab.hosts;
  await waitFor('every pair on vxlan', async () => (await observePaths(lab, vpc)).every((p) => p.path === 'vxlan'), { timeoutMs: 30_000 });
  const timelines = await Promise.all(hosts.map((h) => kernelTimeline(h.ns, 'p1')));
  const programmed = await watchProgrammed(cluster.client, cluster.prefix);
  try {
    cluster.startController();
    let last = await observePaths(lab, vpc);
    await waitFor('every pair on the VPC', async () => {
      last = await observePaths(lab, vpc);
      return last.every((p) => p.path === 'cloud' && p.vxlanObjects.length === 0);
    }, { timeoutMs: 30_000, details: () => `${pathTable(last, hosts)}\n${cluster.logTail()}` });
    await new Promise((r) => setTimeout(r, 200));
    const samples: number[] = [];
    const routeOnly: number[] = [];
    for (const [i, h] of hosts.entries()) {
      for (const peer of hosts.filter((p) => p !== h)) {
        const from = programmed.seen.get(subnetKey(peer.subnet));
        const gone = removedAt(timelines[i]!, peer);
        if (from === undefined || gone === undefined) throw new Error(`no sample for ${h.ns} → ${peer.ns}: status at ${from}, removed at ${JSON.stringify(gone)}`);
        samples.push(gone.all - from);
        routeOnly.push(gone.route - from);
      }
    }
    return { samples, routeOnly };
  } finally {
    await programmed.close();
    await Promise.all(timelines.map((t) => t.stop()));
    await cluster.stopController();
  }
}

/** Back to "nothing programmed": statuses deleted (agents fall back to vxlan), routes removed from the table. */
async function unprogram(world: HybridWorld): Promise<void> {
  await world.cluster.client.delete().prefix(`${world.cluster.prefix}/routes/`).exec();
  for (const r of await world.vpc.tableRoutes()) {
    if (r.target.instanceId !== undefined) await world.vpc.admin.removeRoute({ routeTableId: world.vpc.routeTableId, destination: r.destination });
  }
  await world.vpc.sync();
}

async function labRows(quick: boolean): Promise<BenchRow[]> {
  const cloudHosts = quick ? 3 : 4;
  const rounds = quick ? 1 : 3;
  const given = process.env.TARTAN_TEST_ETCD;
  const etcd = given ? undefined : await startEtcd();
  const world = await startHybridWorld({
    hosts: Array.from({ length: cloudHosts }, () => 'cloud' as const), podsPerHost: 1,
    etcdEndpoint: given ?? etcd!.endpoint, prefix: `/tartan-bench/hybrid-${process.pid}`,
  });
  try {
    await Promise.all(world.lab.hosts.map((h) => world.cluster.startAgent(h)));
    const all: Round[] = [];
    for (let r = 0; r < rounds; r++) {
      if (r > 0) await unprogram(world);
      all.push(await round(world));
    }
    const samples = all.flatMap((r) => r.samples);
    const routeOnly = all.flatMap((r) => r.routeOnly);
    const note = `${samples.length} samples (${cloudHosts} cloud hosts × ${cloudHosts - 1} peers × ${rounds} rounds)`;
    return [
      { suite: SUITE, metric: 'route programmed → agent removed the peer\'s vxlan route+neigh+fdb, median', value: median(samples), unit: 'ms', note },
      { suite: SUITE, metric: 'route programmed → vxlan objects removed, max', value: Math.max(...samples), unit: 'ms' },
      { suite: SUITE, metric: 'route programmed → vxlan route removed (path switched), median', value: median(routeOnly), unit: 'ms' },
    ];
  } finally {
    await world.destroy();
    await etcd?.destroy();
  }
}

export default async function hybridBench(opts: BenchOptions): Promise<BenchRow[]> {
  const rows = planRows(opts.quick);
  if (process.getuid?.() !== 0) return [...rows, { suite: SUITE, metric: 'lab: skipped', value: 0, unit: '', note: 'needs root (network namespaces)' }];
  return [...rows, ...(await labRows(opts.quick))];
}
