// `npm run demo -- --kube [--hybrid] [--backend host-gw] [--keep]`: Kubernetes without a
// kubelet. The control plane is Kubernetes mode's: the kube-apiserver emulator (on an
// etcd in the root namespace, reached from every host through relays, kube-cluster.ts),
// Nodes created with their podCIDRs (kube-controller-manager's part), a real
// `tartan agent --kube-subnet-mgr` per host; every pod is made as containerd makes a pod
// sandbox: kube-flannel's conflist, installed by `tartan install-cni`, run through the
// plugin executable and Debian's bridge, host-local, portmap and loopback (cni-nodes.ts).
// Prints the Nodes (podCIDR, flannel's backend-type and public-ip annotations,
// NetworkUnavailable), the pods and the ping matrix, then DELs every pod and tears down.
// `--hybrid`: the hybrid Kubernetes lab (two cloud hosts in the EC2 emulator's VPC, one
// on-prem host, `tartan controller --kube-subnet-mgr`), with each pair's path as well.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROUTE_STATUS_ANNOTATION, annotationKeys } from '../../src/lease/kube-node.ts';
import { startEtcd } from '../support/etcd.ts';
import { waitFor } from '../support/wait.ts';
import { subnetFileOf, waitSubnetEnv } from './agents.ts';
import { type CniLabPod, type CniNodes, addPodsEverywhere, installCniNodes } from './cni-nodes.ts';
import { type HybridDemoOptions, printMatrix } from './demo-hybrid.ts';
import { type HybridKubeCluster, startHybridKubeCluster } from './hybrid-kube-cluster.ts';
import { observePaths, pathTable } from './hybrid-paths.ts';
import { type HybridLab, createHybridLab } from './hybrid.ts';
import { type KubeLab, startKubeLab } from './kube-cluster.ts';
import { type Lab, type LabHost, createLab } from './lab.ts';
import { type MatrixCell, failures, pingMatrix } from './ping.ts';
import { type LabVpc, startLabVpc } from './vpc.ts';

export interface KubeDemoOptions extends HybridDemoOptions {
  readonly hybrid: boolean;
  /** net-conf.json Backend.Type without --hybrid (vxlan, host-gw). */
  readonly backend: string;
}

const PODS_PER_HOST = 2;
const keys = annotationKeys();

interface NodeView {
  readonly spec?: { podCIDR?: string };
  readonly metadata: { annotations?: Record<string, string> };
  readonly status?: { conditions?: { type: string; status: string; reason?: string }[] };
}

export async function runKubeDemo(o: KubeDemoOptions): Promise<number> {
  const work = mkdtempSync(join(tmpdir(), 'tartan-demo-kube-'));
  const etcd = await startEtcd();
  const stops: (() => Promise<unknown>)[] = [];
  try {
    const { lab, kube, describe, hosts } = o.hybrid ? await hybridWorld(o, etcd.endpoint, stops) : await plainWorld(o, etcd.endpoint, stops);
    o.say(`lab ${lab.id}: cluster Network ${lab.network}; kube-apiserver emulator https://127.0.0.1:${kube.api.port} (etcd ${etcd.endpoint}), relayed into every host`);
    o.say('building the CNI plugin executable (npm run build:cni) and running tartan install-cni on every host…');
    const nodes = await installCniNodes({ labId: lab.id, hosts, dir: work, subnetFile: (h) => subnetFileOf(h, kube.dir) });
    stops.push(() => nodes.destroy());
    const pods = await addPodsEverywhere(nodes, hosts, PODS_PER_HOST);
    await waitFor('NetworkUnavailable=False on every Node', async () => (await Promise.all(hosts.map(async (h) => networkUnavailable(await node(kube, h))))).every((c) => c.startsWith('False')),
      { timeoutMs: 60_000, details: () => hosts.map((h) => `--- ${h.ns}\n${kube.logTail(h, 8)}`).join('\n') });
    await printNodes(o.say, kube, hosts);
    o.say(`\npods (ADD: ${nodes.bin}/flannel → bridge + host-local, then portmap):`);
    for (const p of pods) o.say(`  ${p.cni.id.padEnd(9)} ${kube.nodeName(p.node).padEnd(7)} ${p.ip}`);
    await describe();
    const failed = printMatrix(o.say, pods, await untilReachable(lab, pods));
    if (failed > 0) o.say(`\nagent logs: ${kube.dir}/<host>.log`);
    if (o.keep) await keepUp(o, pods, kube);
    await releaseAll(o.say, nodes, hosts);
    return failed === 0 ? 0 : 1;
  } finally {
    for (const stop of stops.reverse()) await stop();
    await etcd.destroy();
    rmSync(work, { recursive: true, force: true });
  }
}

interface World {
  readonly lab: Lab;
  readonly kube: KubeLab;
  readonly hosts: readonly LabHost[];
  /** Prints what this world adds (the hybrid paths). */
  readonly describe: () => Promise<void>;
}

async function plainWorld(o: KubeDemoOptions, etcdEndpoint: string, stops: (() => Promise<unknown>)[]): Promise<World> {
  const lab = await createLab({ hosts: 3, podsPerHost: 0 });
  stops.push(() => lab.destroy());
  const kube = await startKubeLab(lab, { etcdEndpoint, backend: { Type: o.backend } });
  stops.push(() => kube.destroy());
  for (const h of lab.hosts) {
    await kube.createNode(h);
    kube.startAgent(h, ['--resync-period', '10s']);
  }
  for (const h of lab.hosts) await waitSubnetEnv(h, kube.dir);
  return { lab, kube, hosts: lab.hosts, describe: async () => undefined };
}

async function hybridWorld(o: KubeDemoOptions, etcdEndpoint: string, stops: (() => Promise<unknown>)[]): Promise<World> {
  const lab: HybridLab = await createHybridLab({ hosts: ['cloud', 'cloud', 'onprem'], podsPerHost: 0 });
  stops.push(() => lab.destroy());
  const vpc: LabVpc = await startLabVpc(lab);
  stops.push(() => vpc.close());
  const cluster: HybridKubeCluster = await startHybridKubeCluster(lab, vpc, { etcdEndpoint });
  stops.push(() => cluster.destroy());
  await Promise.all(lab.hosts.map((h) => cluster.startAgent(h)));
  const cloud = lab.hosts.filter((h) => h.kind === 'cloud');
  cluster.startController(cloud[0]!);
  const viaVpc = async (): Promise<void> => {
    await waitFor('the cloud hosts to route each other through the VPC', async () =>
      (await observePaths(lab, vpc, cloud)).every((p) => p.path === 'cloud'), { timeoutMs: 30_000, details: () => cluster.logTail() });
  };
  await viaVpc();
  return {
    lab, kube: cluster.kube, hosts: lab.hosts,
    describe: async () => {
      await viaVpc();
      o.say(`\nVPC ${vpc.vpcId} ${lab.vpcCidr}, route table ${vpc.routeTableId} (EC2 emulator ${vpc.endpoint}):`);
      for (const r of await vpc.tableRoutes()) o.say(`  ${r.destination.padEnd(14)} → ${r.target.instanceId ?? r.target.gatewayId ?? '?'}  ${r.state}`);
      for (const h of lab.hosts) o.say(`  ${cluster.kube.nodeName(h)} ${h.kind.padEnd(6)} route domain ${cluster.domainOf(h).padEnd(18)} route status ${(await cluster.routeStatus(h))?.state ?? '(none)'}`);
      o.say(`\npaths (from the kernel: cloud = the VPC router carries it, vxlan = flannel.1, host-gw = plain route):\n${pathTable(await observePaths(lab, vpc), lab.hosts)}`);
    },
  };
}

function node(kube: KubeLab, h: LabHost): Promise<NodeView> {
  return kube.raw('GET', `/api/v1/nodes/${kube.nodeName(h)}`).then((r) => r.json<NodeView>());
}

function networkUnavailable(n: NodeView): string {
  const c = n.status?.conditions?.find((x) => x.type === 'NetworkUnavailable');
  return c ? `${c.status} (${c.reason ?? 'no reason'})` : '(not set)';
}

async function printNodes(say: (l: string) => void, kube: KubeLab, hosts: readonly LabHost[]): Promise<void> {
  say(`\n${'NODE'.padEnd(8)}${'PODCIDR'.padEnd(15)}${'BACKEND'.padEnd(9)}${'PUBLIC-IP'.padEnd(16)}NETWORKUNAVAILABLE`);
  for (const h of hosts) {
    const n = await node(kube, h);
    const a = n.metadata.annotations ?? {};
    say(`${kube.nodeName(h).padEnd(8)}${(n.spec?.podCIDR ?? '(none)').padEnd(15)}${(a[keys.backendType] ?? '-').padEnd(9)}${(a[keys.publicIp] ?? '-').padEnd(16)}${networkUnavailable(n)}`);
  }
  say(`(annotations ${keys.backendType}, ${keys.publicIp}; route status, where the controller wrote one: ${ROUTE_STATUS_ANNOTATION})`);
}

/** Agents program peers as Nodes arrive: pings until every pair answers, 20 s at most; the matrix shows what did not. */
async function untilReachable(lab: Lab, pods: readonly CniLabPod[]): Promise<MatrixCell[]> {
  let cells: MatrixCell[] = [];
  const all = async (): Promise<boolean> => failures(cells = await pingMatrix(lab, { pods, count: 1, timeout: 1 })).length === 0;
  await waitFor('every pod to answer every pod', all, { timeoutMs: 20_000, everyMs: 500 }).catch(() => undefined);
  return cells;
}

/** DEL through the conflist, as the runtime does when a pod sandbox goes; says whether host-local gave every address back. */
async function releaseAll(say: (l: string) => void, nodes: CniNodes, hosts: readonly LabHost[]): Promise<void> {
  const failed = [];
  for (const p of [...nodes.pods.values()]) if (!(await nodes.del(p)).ok) failed.push(p.cni.id);
  const held = hosts.flatMap((h) => nodes.addressesHeld(h));
  say(failed.length === 0 && held.length === 0 ? '\nDEL of every pod: host-local holds no address' : `\nDEL failed for ${failed.join(', ') || 'none'}; still held: ${held.join(' ') || 'none'}`);
}

async function keepUp(o: KubeDemoOptions, pods: readonly CniLabPod[], kube: KubeLab): Promise<void> {
  o.say(`\nkept up. In another terminal (as root):`);
  o.say(`  enter a pod:     ip netns exec ${pods[0]!.ns} bash     (then: ping ${pods.at(-1)!.ip})`);
  o.say(`  the Nodes:       kubectl --kubeconfig ${kube.api.kubeconfigPath} get nodes -o wide`);
  o.say(`  a host's routes: ip -n ${pods[0]!.node.ns} route show proto 116`);
  o.say(`  agent logs:      ${kube.dir}/<host>.log`);
  o.say('tear down: press Ctrl-C here (pods DELeted, agents, apiserver, etcd and every namespace of this lab removed)');
  await o.untilStopped();
  o.say('tearing down…');
}
