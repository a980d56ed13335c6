// A lab whose hosts run real `tartan agent`s and, on the Docker hosts, Debian's
// dockerd started with `tartan docker-opts`' options (docker.ts), one container each;
// the other hosts get a hand-made pod on cni0 (what the CNI bridge plugin would do).
// etcd runs on host 1's eth0. Used by test/e2e/docker.test.ts and the --docker demo.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { startEtcd, type EtcdServer } from '../support/etcd.ts';
import { stopChild } from '../support/process.ts';
import { type HostSubnet, startLabAgent, subnetFileOf, waitSubnetEnv } from './agents.ts';
import { type LabContainer, type LabDockerd, assertDockerInstalled, buildBusyboxTar, dockerOptsFor, startLabDockerd } from './docker.ts';
import { type Lab, type LabHost, type LabPod, createLab } from './lab.ts';

export interface DockerClusterOptions {
  readonly hosts: number;
  /** Hosts (1-based) that run dockerd; the rest get one hand-made pod. */
  readonly dockerHosts: readonly number[];
  readonly backend: string;
  /** Extra `tartan agent` flags for every host. */
  readonly agentArgs?: readonly string[];
  readonly outside?: boolean;
}

export interface DockerCluster {
  readonly lab: Lab;
  readonly dir: string;
  readonly subnets: ReadonlyMap<LabHost, HostSubnet>;
  readonly daemons: readonly LabDockerd[];
  /** One container per Docker host, in dockerHosts order. */
  readonly containers: readonly LabContainer[];
  /** One hand-made pod per host without Docker. */
  readonly pods: readonly LabPod[];
  startAgent(host: LabHost, extra?: readonly string[]): void;
  stopAgent(host: LabHost): Promise<void>;
  agentLog(host: LabHost): string;
  destroy(): Promise<void>;
}

export async function startDockerCluster(o: DockerClusterOptions): Promise<DockerCluster> {
  assertDockerInstalled();
  const dir = mkdtempSync(join(tmpdir(), 'tartan-docker-'));
  const agents = new Map<LabHost, ChildProcess>();
  const daemons: LabDockerd[] = [];
  let lab: Lab | undefined;
  let etcd: EtcdServer | undefined;
  const stopAgent = async (host: LabHost): Promise<void> => {
    const a = agents.get(host);
    agents.delete(host);
    if (a) await stopChild(a);
  };
  const destroy = async (): Promise<void> => {
    // Every daemon is stopped and everything else torn down even if one stop fails; then that failure is reported.
    const stopped = await Promise.allSettled(daemons.splice(0).map((d) => d.stop()));
    for (const host of [...agents.keys()]) await stopAgent(host);
    await etcd?.destroy();
    await lab?.destroy();
    rmSync(dir, { recursive: true, force: true });
    const failed = stopped.find((r) => r.status === 'rejected');
    if (failed) throw new Error('a lab dockerd did not stop cleanly', { cause: failed.reason });
  };
  try {
    lab = await createLab({ hosts: o.hosts, podsPerHost: 0, outside: o.outside });
    const h1 = lab.hosts[0]!;
    etcd = await startEtcd({ netns: h1.ns, host: h1.ip });
    writeFileSync(join(dir, 'net-conf.json'), JSON.stringify({ Network: lab.network, Backend: { Type: o.backend } }));
    const agentOpts = { dir, etcdEndpoint: etcd.endpoint, netConfigPath: join(dir, 'net-conf.json') };
    const startAgent = (host: LabHost, extra: readonly string[] = []): void => {
      agents.set(host, startLabAgent(host, { ...agentOpts, extraArgs: [...(o.agentArgs ?? []), ...extra] }));
    };
    for (const host of lab.hosts) startAgent(host);
    const subnets = new Map<LabHost, HostSubnet>();
    for (const host of lab.hosts) subnets.set(host, await waitSubnetEnv(host, dir));
    const pods: LabPod[] = [];
    for (const host of lab.hosts.filter((h) => !o.dockerHosts.includes(h.index))) {
      const env = subnets.get(host)!;
      pods.push(...(await lab.addPods(host, { subnet: env.cidr, count: 1, mtu: env.mtu })));
    }
    const tar = await buildBusyboxTar(dir);
    const containers: LabContainer[] = [];
    for (const n of o.dockerHosts) {
      const host = lab.hosts[n - 1]!;
      const d = await startLabDockerd(host, { dir, options: await dockerOptsFor(subnetFileOf(host, dir)) });
      daemons.push(d);
      await d.importImage(tar);
      containers.push(await d.runContainer(`c${n}`));
    }
    return {
      lab, dir, subnets, daemons, containers, pods, startAgent, stopAgent, destroy,
      agentLog: (host) => readFileSync(join(dir, `${host.ns}.log`), 'utf8'),
    };
  } catch (err) {
    await destroy();
    throw err;
  }
}
