// `npm run demo -- --hybrid [--keep]`: a hybrid cluster on this machine. Two cloud
// hosts in an emulated AWS VPC (the EC2 emulator; the VPC router's kernel follows its
// route table) and one on-prem host, a real `tartan agent` on each, a real
// `tartan controller`, etcd. Prints each host's subnet and route domain, the route
// table, which path each ordered pair of hosts uses (read from the kernel), and the
// pod ping matrix; then tears down (or stays up with --keep until Ctrl-C).
import type { Lease, RouteStatus } from '../../src/lease/index.ts';
import { formatCidr } from '../../src/net/cidr.ts';
import { startEtcd } from '../support/etcd.ts';
import type { HybridHost } from './hybrid.ts';
import { waitFor } from './hybrid-cluster.ts';
import { observePaths, pathTable, shortName } from './hybrid-paths.ts';
import { type HybridWorld, startHybridWorld } from './hybrid-world.ts';
import { type MatrixCell, pingMatrix } from './ping.ts';

export interface HybridDemoOptions {
  readonly keep: boolean;
  readonly say: (line: string) => void;
  /** Resolves at Ctrl-C. */
  readonly untilStopped: () => Promise<void>;
}

export async function runHybridDemo(o: HybridDemoOptions): Promise<number> {
  const { say } = o;
  const etcd = await startEtcd();
  let world: HybridWorld | undefined;
  try {
    world = await startHybridWorld({ hosts: ['cloud', 'cloud', 'onprem'], podsPerHost: 2, etcdEndpoint: etcd.endpoint, prefix: '/coreos.com/network' });
    const { lab, vpc, cluster } = world;
    say(`lab ${lab.id}: cluster Network ${lab.network}, Backend.Type aws-vpc (hybrid: VPC routes + vxlan fallback)`);
    say(`  VPC ${vpc.vpcId} ${lab.vpcCidr}: router ${lab.vpcRouter}, route table ${vpc.routeTableId} (EC2 emulator ${vpc.endpoint})`);
    say(`  on-prem 192.168.50.0/24: router ${lab.onpremRouter}, linked to the VPC router without NAT`);
    say(`  etcd ${etcd.endpoint} (root namespace), relayed to every host at ${lab.serviceIp}:2379`);
    await Promise.all(lab.hosts.map((h) => cluster.startAgent(h)));
    for (const h of lab.hosts) say(`  ${shortName(h)} ${h.kind.padEnd(6)} ${h.ns}  eth0 ${h.ip.padEnd(13)} subnet ${subnetOf(await cluster.lease(h))}  route domain ${await routeDomain(world, h)}`);
    say('\nstarting the controller…');
    cluster.startController();
    const cloud = lab.hosts.filter((h) => h.kind === 'cloud');
    await waitFor('the cloud hosts to route each other through the VPC', async () =>
      (await observePaths(lab, vpc, cloud)).every((p) => p.path === 'cloud'), { timeoutMs: 30_000, details: () => cluster.logTail() });
    say('route table (EC2):');
    for (const r of await vpc.tableRoutes()) say(`  ${r.destination.padEnd(14)} → ${r.target.instanceId ?? r.target.gatewayId ?? '?'}  ${r.state}`);
    say(`route status: ${(await Promise.all(lab.hosts.map(async (h) => `${shortName(h)} ${stateOf(await cluster.routeStatus(h))}`))).join(', ')}`);
    say(`\npaths (from the kernel: cloud = the VPC router carries it, vxlan = flannel.1, host-gw = plain route):\n${pathTable(await observePaths(lab, vpc), lab.hosts)}`);
    const cells = await pingMatrix(lab, { count: 1, timeout: 1 });
    const failed = printMatrix(say, lab.pods, cells);
    if (failed > 0) say(`\nlast log lines:\n${cluster.logTail()}`);
    if (o.keep) {
      say(`\nkept up. In another terminal (as root):`);
      say(`  enter a pod:         ip netns exec ${lab.pods[0]!.ns} bash     (then: ping ${lab.pods.at(-1)!.ip})`);
      say(`  VPC router's routes: ip -n ${lab.vpcRouter} route show proto 200`);
      say(`  a host's routes:     ip -n ${lab.hosts[0]!.ns} route show proto 116`);
      say(`  logs:                ${cluster.workDir}/<host>.log, controller.log`);
      say(`tear down: press Ctrl-C here (agents, controller, etcd and every tt-${lab.id}-* namespace are removed)`);
      await o.untilStopped();
      say('tearing down…');
    }
    return failed === 0 ? 0 : 1;
  } finally {
    await world?.destroy();
    await etcd.destroy();
  }
}

function subnetOf(lease: Lease | undefined): string {
  return lease ? formatCidr(lease.subnet) : '(none)';
}

async function routeDomain(world: HybridWorld, h: HybridHost): Promise<string> {
  const raw = await world.cluster.rawLease(h) as { BackendData?: { RouteDomain?: string } } | undefined;
  return raw?.BackendData?.RouteDomain ?? '(none published)';
}

function stateOf(status: RouteStatus | undefined): string {
  return status?.state ?? 'no status';
}

/** The ping matrix, row to column (the --kube demos print it too); returns how many pairs failed. */
export function printMatrix(say: (l: string) => void, pods: readonly { ns: string; ip: string }[], cells: readonly MatrixCell[]): number {
  const name = (p: { ns: string }): string => p.ns.slice(p.ns.lastIndexOf('-') + 1);
  const width = Math.max(...pods.map((p) => `${name(p)} ${p.ip}`.length));
  say(`\nping (from row to column):\n${''.padEnd(width)}  ${pods.map((p) => name(p).padEnd(5)).join(' ')}`.trimEnd());
  for (const from of pods) {
    const row = pods.map((to) => (from === to ? '-' : cells.find((c) => c.from === from && c.to === to)?.result.received ? 'ok' : 'FAIL'));
    say(`${`${name(from)} ${from.ip}`.padEnd(width)}  ${row.map((c) => c.padEnd(5)).join(' ')}`.trimEnd());
  }
  const failed = cells.filter((c) => c.result.received === 0).length;
  say(failed === 0 ? `\nall ${cells.length} pod pairs reachable` : `\n${failed} of ${cells.length} pod pairs NOT reachable`);
  return failed;
}
