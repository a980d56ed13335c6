// `npm run demo [-- --keep] [-- --backend host-gw] [-- --hosts N] [-- --hybrid] [-- --docker] [-- --kube]`: a whole tartan
// cluster on this machine, in network namespaces. etcd runs on host 1's eth0, a real
// `tartan agent` runs on every host and picks its subnet; pods are then attached to
// each host's cni0 with the subnet and MTU from its subnet.env, as the CNI plugin does.
// Prints the subnets and a pod-to-pod ping matrix, then tears everything down
// (`--keep`: stays up until Ctrl-C and says how to look around). `--hybrid`: cloud
// hosts in an emulated AWS VPC plus on-prem hosts, with the controller (demo-hybrid.ts).
// `--docker`: Docker hosts (dockerd with tartan docker-opts and its own FORWARD DROP) and
// a plain pod host, with a container/pod ping matrix (demo-docker.ts). `--kube [--hybrid]`:
// Kubernetes mode (apiserver emulator, Nodes with podCIDRs, pods through the installed
// conflist and the real CNI plugins), hybrid with the VPC controller too (demo-kube.ts).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ChildProcess } from 'node:child_process';
import { startEtcd } from '../support/etcd.ts';
import { stopChild } from '../support/process.ts';
import { startLabAgent, waitSubnetEnv } from './agents.ts';
import { type Lab, type LabPod, createLab } from './lab.ts';
import { type MatrixCell, pingMatrix } from './ping.ts';

const { values } = parseArgs({
  options: {
    keep: { type: 'boolean', default: false },
    backend: { type: 'string', default: 'vxlan' },
    hosts: { type: 'string', default: '3' },
    hybrid: { type: 'boolean', default: false },
    docker: { type: 'boolean', default: false },
    kube: { type: 'boolean', default: false },
  },
});
if (process.getuid?.() !== 0) {
  console.error('npm run demo needs root: it builds network namespaces (sudo npm run demo)');
  process.exit(2);
}

const say = (line: string): void => void process.stdout.write(`${line}\n`);
// Ctrl-C tears down: the lab's and the process helpers' exit hooks delete every
// namespace this run made and kill its agents and etcd by PID. --keep waits for it.
let onStop = (): void => process.exit(130);
process.on('SIGINT', () => onStop());
process.on('SIGTERM', () => onStop());
const work = mkdtempSync(join(tmpdir(), 'tartan-demo-'));
if (values.kube) {
  const { runKubeDemo } = await import('./demo-kube.ts');
  try {
    process.exitCode = await runKubeDemo({ keep: values.keep, hybrid: values.hybrid, backend: values.backend, say, untilStopped });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
} else if (values.hybrid) {
  const { runHybridDemo } = await import('./demo-hybrid.ts');
  try {
    process.exitCode = await runHybridDemo({ keep: values.keep, say, untilStopped });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
} else if (values.docker) {
  const { runDockerDemo } = await import('./demo-docker.ts');
  try {
    process.exitCode = await runDockerDemo({ keep: values.keep, backend: values.backend, hosts: Number(values.hosts), say, untilStopped });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
} else {
  await kernelDemo();
}

/** Resolves at Ctrl-C (what --keep waits for). */
function untilStopped(): Promise<void> {
  return new Promise<void>((resolve) => {
    onStop = resolve;
  });
}

async function kernelDemo(): Promise<void> {
  const agents: ChildProcess[] = [];
  let lab: Lab | undefined;
  let etcd: Awaited<ReturnType<typeof startEtcd>> | undefined;
  try {
    lab = await createLab({ hosts: Number(values.hosts), podsPerHost: 0 });
    const h1 = lab.hosts[0]!;
    say(`lab ${lab.id}: ${lab.hosts.length} hosts on 192.168.100.0/24, cluster Network ${lab.network}, backend ${values.backend}`);
    etcd = await startEtcd({ netns: h1.ns, host: h1.ip, clientPort: 2379, peerPort: 2380 });
    say(`etcd on ${h1.ns} at ${etcd.endpoint}`);
    const config = join(work, 'net-conf.json');
    writeFileSync(config, JSON.stringify({ Network: lab.network, Backend: { Type: values.backend } }));
    const agentOpts = { dir: work, etcdEndpoint: etcd.endpoint, netConfigPath: config, extraArgs: ['--ip-masq', '--resync-period', '10s'] };
    for (const h of lab.hosts) agents.push(startLabAgent(h, agentOpts));
    const subnets = await Promise.all(lab.hosts.map((h) => waitSubnetEnv(h, work)));
    const pods: LabPod[] = [];
    for (const [i, h] of lab.hosts.entries()) {
      const env = subnets[i]!;
      say(`  ${h.ns}  eth0 ${h.ip}  subnet ${env.text}  MTU ${env.mtu}`);
      pods.push(...(await lab.addPods(h, { subnet: env.cidr, count: 2, mtu: env.mtu })));
    }
    const cells = await untilReachable(lab, pods);
    printMatrix(pods, cells);
    if (values.keep) await keepUp(lab, pods);
  } finally {
    for (const a of agents) await stopChild(a);
    await etcd?.destroy();
    await lab?.destroy();
    rmSync(work, { recursive: true, force: true });
  }
}

/** Agents program peers as leases arrive: ping until every pair answers (20 s at most). */
async function untilReachable(l: Lab, pods: readonly LabPod[]): Promise<MatrixCell[]> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const cells = await pingMatrix(l, { pods, count: 1, timeout: 1 });
    if (cells.every((c) => c.result.received === 1) || Date.now() > deadline) return cells;
    await new Promise((r) => setTimeout(r, 500));
  }
}

function printMatrix(pods: readonly LabPod[], cells: readonly MatrixCell[]): void {
  const name = (p: LabPod): string => p.ns.slice(p.ns.lastIndexOf('-') + 1);
  const width = Math.max(...pods.map((p) => `${name(p)} ${p.ip}`.length));
  say(`\nping (from row to column):\n${''.padEnd(width)}  ${pods.map((p) => name(p).padEnd(5)).join(' ')}`.trimEnd());
  for (const from of pods) {
    const row = pods.map((to) => (from === to ? '-' : cells.find((c) => c.from === from && c.to === to)?.result.received ? 'ok' : 'FAIL'));
    say(`${`${name(from)} ${from.ip}`.padEnd(width)}  ${row.map((c) => c.padEnd(5)).join(' ')}`.trimEnd());
  }
  const failed = cells.filter((c) => c.result.received === 0).length;
  say(failed === 0 ? `\nall ${cells.length} pod pairs reachable` : `\n${failed} of ${cells.length} pod pairs NOT reachable (agent logs: ${work})`);
  if (failed > 0) process.exitCode = 1;
}

async function keepUp(l: Lab, pods: readonly LabPod[]): Promise<void> {
  say(`\nkept up. In another terminal (as root):`);
  say(`  enter a pod:        ip netns exec ${pods[0]!.ns} bash     (then: ping ${pods.at(-1)!.ip})`);
  say(`  a host's routes:    ip -n ${l.hosts[0]!.ns} route show proto 116`);
  say(`  vxlan neighbours:   ip -n ${l.hosts[0]!.ns} neigh show dev flannel.1; bridge -n ${l.hosts[0]!.ns} fdb show dev flannel.1`);
  say(`  agent logs:         ${work}/<host>.log`);
  say('tear down: press Ctrl-C here (agents, etcd and every tt-' + l.id + '-* namespace are removed)');
  await untilStopped();
  say('tearing down…');
}
