// Real tartan processes on a hybrid lab (hybrid.ts) with its VPC (vpc.ts):
//
//   etcd          in the root namespace on 127.0.0.1 (the caller's). Host namespaces
//                 reach it at <serviceIp>:2379 on the VPC router through two relays
//                 joined by a Unix socket (relay.ts): no route into the root namespace.
//   agents        `ip netns exec <host> node src/cli/main.ts agent`, one per host,
//                 started and stopped one by one. Cloud hosts: --route-domain of their
//                 network (aws:<vpc>, or gce:projects/<p>/global/networks/<n> in a lab
//                 with a GCE network), on-prem: --route-domain none, `plainVxlan`: a plain
//                 vxlan config file (--net-config-path), i.e. a flannel-formatted lease.
//   controllers   `node src/cli/main.ts controller` in the root namespace, one per cloud
//                 network (aws, and gce when the lab has one), same cluster name: each
//                 needs only etcd and its emulator, both on 127.0.0.1.
//
// Each host's subnet.env is seeded with its planned subnet (10.42.<N>.0/24) so the
// agent takes it (flannel's "previous subnet" rule) and pods can exist up front.
import type { ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Etcd3 } from 'etcd3';
import { parseEnvFile } from '../../src/agent/subnet-env.ts';
import { EtcdLeaseStore, type Lease, type RouteStatus, createEtcdClient, subnetKey } from '../../src/lease/index.ts';
import { firstHost } from '../../src/net/cidr.ts';
import { spawnTracked, stopChild } from '../support/process.ts';
import type { HybridHost, HybridLab } from './hybrid.ts';
import { bridgeIntoNamespaces } from './relay.ts';
import type { LabVpc } from './vpc.ts';
import type { LabGce } from './hybrid-gce.ts';

export type LabCloud = 'aws' | 'gce';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
/** Node's compile cache for the child processes: halves their start-up CPU (they load the same files). */
const COMPILE_CACHE = join(tmpdir(), 'tartan-node-compile-cache');

export interface HybridClusterOptions {
  /** etcd in the root namespace, `http://127.0.0.1:<port>`. */
  readonly etcdEndpoint: string;
  readonly prefix: string;
  /** Agents' --resync-period (default 1s). */
  readonly agentResync?: string | undefined;
  /** Controller's --resync-period (default 2s). */
  readonly controllerResync?: string | undefined;
  /** Where logs and subnet.env files go (default a new temp dir, removed by destroy()). */
  readonly workDir?: string | undefined;
  /** The lab's GCE network, when some cloud hosts sit there instead of the VPC. */
  readonly gce?: LabGce | undefined;
}

export interface HybridCluster {
  readonly prefix: string;
  readonly store: EtcdLeaseStore;
  readonly client: Etcd3;
  readonly workDir: string;
  /** Starts a host's agent and waits for its subnet.env (then sets the pods' MTU from it). */
  startAgent(host: HybridHost, o?: { plainVxlan?: boolean }): Promise<void>;
  stopAgent(host: HybridHost): Promise<void>;
  /** Starts the controller of one cloud network (default aws), named `<cloud>-controller` (its --identity too). */
  startController(cloud?: LabCloud): void;
  stopController(cloud?: LabCloud): Promise<void>;
  /** A host's route domain (its agent's --route-domain): its cloud network's, or none. */
  domainOf(host: HybridHost): string;
  /** The route status the controller of the host's route domain published for its lease. */
  routeStatus(host: HybridHost): Promise<RouteStatus | undefined>;
  /** The host's lease as the store holds it. */
  lease(host: HybridHost): Promise<Lease | undefined>;
  /** The raw JSON value of a host's lease key, as flannel would read it. */
  rawLease(host: HybridHost): Promise<unknown>;
  /** Last lines of every process log (for failure messages). */
  logTail(lines?: number): string;
  destroy(o?: { keepWorkDir?: boolean }): Promise<void>;
}

export async function startHybridCluster(lab: HybridLab, vpc: LabVpc, o: HybridClusterOptions): Promise<HybridCluster> {
  const workDir = o.workDir ?? mkdtempSync(join(tmpdir(), 'tartan-hybrid-'));
  const client = createEtcdClient({ endpoints: [o.etcdEndpoint] });
  const store = new EtcdLeaseStore({ client, prefix: o.prefix });
  const agents = new Map<HybridHost, ChildProcess>();
  const logs = new Map<string, string>();
  const controllers = new Map<LabCloud, ChildProcess>();
  const domainOf = (h: HybridHost): string => (o.gce?.has(h) ? o.gce.domain : vpc.has(h) ? vpc.domain : 'none');
  let bridge: { stop(): Promise<void> } | undefined;
  try {
    await client.put(`${o.prefix}/config`).value(JSON.stringify({ Network: lab.network, Backend: { Type: 'aws-vpc' } }));
    writeFileSync(join(workDir, 'plain-vxlan.json'), JSON.stringify({ Network: lab.network, Backend: { Type: 'vxlan' } }));
    for (const h of lab.hosts) writeFileSync(envFile(workDir, h), `FLANNEL_SUBNET=${plannedEnvSubnet(h)}\n`);
    bridge = await bridgeEtcd(lab, o.etcdEndpoint, workDir);
  } catch (err) {
    client.close();
    throw err;
  }
  const spawn = (name: string, argv: readonly string[], env: NodeJS.ProcessEnv = {}): ChildProcess => spawnLogged(join(workDir, `${name}.log`), argv, env, logs);
  return {
    prefix: o.prefix, store, client, workDir,
    startAgent: async (host, a = {}) => {
      if (agents.has(host)) throw new Error(`the agent on ${host.ns} is running`);
      const agent = spawn(host.ns.slice(host.ns.lastIndexOf('-') + 1), agentArgv({ lab, domain: domainOf(host), host, workDir, prefix: o.prefix, resync: o.agentResync, plainVxlan: a.plainVxlan }));
      agents.set(host, agent);
      await lab.setPodMtu(host, await waitSubnetEnv(host, envFile(workDir, host), agent));
    },
    stopAgent: async (host) => {
      const a = agents.get(host);
      agents.delete(host);
      if (a) await stopChild(a);
    },
    startController: (cloud = 'aws') => {
      const running = controllers.get(cloud);
      if (running && running.exitCode === null) throw new Error(`the ${cloud} controller is running`);
      const common = { etcdEndpoint: o.etcdEndpoint, prefix: o.prefix, resync: o.controllerResync, cluster: vpc.clusterName, identity: `${cloud}-controller` };
      // GCE: a longer leader TTL, because the compute client's first call keeps the event loop
      // busy for over a second on a small machine — longer than a 2 s TTL's two keepalive intervals.
      controllers.set(cloud, cloud === 'aws'
        ? spawn('controller', controllerArgv({ ...common, cloud: awsFlags(vpc), ttl: '2s' }), AWS_LAB_ENV)
        : spawn('gce-controller', controllerArgv({ ...common, cloud: gceFlags(o.gce), ttl: '10s' }), { GOOGLE_OAUTH_ACCESS_TOKEN: o.gce?.token ?? '' }));
    },
    stopController: async (cloud = 'aws') => {
      const c = controllers.get(cloud);
      controllers.delete(cloud);
      if (c) await stopChild(c);
    },
    domainOf,
    routeStatus: async (host) => (await store.routeStatusFor(domainOf(host)).listRouteStatus(new AbortController().signal)).statuses.get(subnetKey(host.subnet)),
    lease: async (host) => (await store.list(new AbortController().signal)).leases.find((l) => l.key === subnetKey(host.subnet)),
    rawLease: async (host) => {
      const text = await client.get(`${store.subnetsPrefix}${subnetKey(host.subnet)}`).string();
      return text === null ? undefined : JSON.parse(text) as unknown;
    },
    logTail: (n = 15) => [...logs].map(([name, file]) => `--- ${name}\n${tail(file, n)}`).join('\n'),
    destroy: async (d = {}) => {
      await Promise.all([...agents.values()].map((a) => stopChild(a)));
      agents.clear();
      await Promise.all([...controllers.values()].map((c) => stopChild(c)));
      controllers.clear();
      await bridge?.stop();
      await client.delete().prefix(`${o.prefix}/`).exec().catch(() => undefined);
      client.close();
      if (!d.keepWorkDir && o.workDir === undefined) rmSync(workDir, { recursive: true, force: true });
    },
  };
}

/** etcd on 127.0.0.1 in the root namespace, reachable at <serviceIp>:2379 from every lab host (see the header). */
async function bridgeEtcd(lab: HybridLab, etcdEndpoint: string, workDir: string): Promise<{ stop(): Promise<void> }> {
  const bridge = await bridgeIntoNamespaces({
    socket: join(workDir, 'etcd.sock'), port: Number(new URL(etcdEndpoint).port), inside: [{ ns: lab.vpcRouter, listen: `tcp:${lab.serviceIp}:2379` }],
  });
  return { stop: () => bridge.close() };
}

function agentArgv(o: { lab: HybridLab; domain: string; host: HybridHost; workDir: string; prefix: string; resync?: string | undefined; plainVxlan?: boolean | undefined }): string[] {
  const mode = o.plainVxlan
    ? ['--net-config-path', join(o.workDir, 'plain-vxlan.json')]
    : ['--route-domain', o.domain];
  return [
    'ip', 'netns', 'exec', o.host.ns, process.execPath, MAIN, 'agent', '--etcd-endpoints', `http://${o.lab.serviceIp}:2379`, '--etcd-prefix', o.prefix,
    '--iface', 'eth0', '--subnet-file', envFile(o.workDir, o.host), '--resync-period', o.resync ?? '1s', ...mode,
  ];
}

function controllerArgv(o: { cloud: readonly string[]; etcdEndpoint: string; prefix: string; cluster: string; identity: string; ttl: string; resync?: string | undefined }): string[] {
  return [
    process.execPath, MAIN, 'controller', '--etcd-endpoints', o.etcdEndpoint, '--etcd-prefix', o.prefix, ...o.cloud,
    '--cluster-name', o.cluster, '--identity', o.identity, '--resync-period', o.resync ?? '2s', '--leader-elect-ttl', o.ttl,
  ];
}

/** The AWS controller's credentials for the lab's EC2 emulator. */
export const AWS_LAB_ENV: NodeJS.ProcessEnv = { AWS_ACCESS_KEY_ID: 'AKIDLAB', AWS_SECRET_ACCESS_KEY: 'lab-secret', AWS_EC2_METADATA_DISABLED: 'true' };

/** The AWS controller's flags for the lab's VPC and its one route table. */
export function awsFlags(vpc: LabVpc): string[] {
  return ['--provider', 'aws', '--cloud-endpoint', vpc.endpoint, '--region', 'us-east-1', '--vpc-id', vpc.vpcId, '--route-table-ids', vpc.routeTableId];
}

function gceFlags(gce: LabGce | undefined): string[] {
  if (gce === undefined) throw new Error('this lab has no GCE network');
  return ['--provider', 'gce', '--cloud-endpoint', gce.endpoint, '--project', gce.project, '--network', gce.network];
}

/** A child whose stdout and stderr go to `file` (remembered in `logs` for logTail). */
function spawnLogged(file: string, argv: readonly string[], env: NodeJS.ProcessEnv, logs: Map<string, string>): ChildProcess {
  logs.set(file.slice(file.lastIndexOf('/') + 1, -'.log'.length), file);
  const fd = openSync(file, 'a');
  try {
    return spawnTracked(argv[0]!, argv.slice(1), { stdio: ['ignore', fd, fd], env: { ...process.env, NODE_COMPILE_CACHE: COMPILE_CACHE, ...env } });
  } finally {
    closeSync(fd);
  }
}

/** FLANNEL_SUBNET as the agent writes it for the planned subnet: its first address. */
function plannedEnvSubnet(host: HybridHost): string {
  return `${firstHost(host.subnet)}/${host.subnet.prefix}`;
}

function envFile(workDir: string, host: HybridHost): string {
  return join(workDir, `${host.ns}.env`);
}


/** Waits until the agent wrote its subnet.env (FLANNEL_MTU appears; the seed, if any, has none) and checks it took the planned subnet. */
export async function waitSubnetEnv(host: HybridHost, file: string, agent: ChildProcess): Promise<number> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const env = parseEnvFile(existsSync(file) ? readFileSync(file, 'utf8') : '');
    const mtu = Number(env.get('FLANNEL_MTU') ?? '0');
    if (mtu > 0) {
      const planned = plannedEnvSubnet(host);
      if (env.get('FLANNEL_SUBNET') !== planned) throw new Error(`${host.ns}: the agent took ${env.get('FLANNEL_SUBNET')}, not the planned ${planned}`);
      return mtu;
    }
    if (agent.exitCode !== null) throw new Error(`the agent on ${host.ns} exited with ${agent.exitCode}`);
    if (Date.now() > deadline) throw new Error(`the agent on ${host.ns} wrote no subnet.env in 30 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The last `n` lines of a log file. */
export function tail(file: string, n: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
  } catch {
    return '(no log)';
  }
}

/** The one bounded poll (test/support/wait.ts), re-exported for the lab's users. */
export { waitFor } from '../support/wait.ts';
