// What the controller e2e tests (test/e2e/controller-*.test.ts) and the controller
// bench share: leases written the way hybrid agents publish them, an AWS world in
// the EC2 emulator, `tartan controller` as a child process, bounded polling, and
// the rate check over an emulator call log.
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Etcd3 } from 'etcd3';
import { parseNetworkConfig } from '../../src/config/network.ts';
import { electionScope } from '../../src/controller/election-scope.ts';
import { type EtcdLeaseStore, type JsonValue, type Lease, type LeaseAttrs } from '../../src/lease/index.ts';
import { formatCidr } from '../../src/net/cidr.ts';
import { createAwsProvider, tartanClusterTag } from '../../providers/aws/index.ts';
import type { AwsProviderOptions } from '../../providers/aws/options.ts';
import type { AwsProvider } from '../../providers/aws/provider.ts';
import type { CallRecord, EmulatorAdmin } from '../emulators/aws-ec2/admin.ts';
import { startAwsEmulator } from '../emulators/aws-ec2/emulator.ts';
import { MUTATING_ACTIONS } from '../emulators/aws-ec2/limits.ts';
import { spawnAwsEmulator } from '../emulators/aws-ec2/spawn.ts';
import { collectOutput, spawnTracked, stopChild } from '../support/process.ts';
import { waitFor } from '../support/wait.ts';

export { waitFor };

export const NETWORK = '10.244.0.0/16';
export const networkConfigJson = JSON.stringify({ Network: NETWORK, Backend: { Type: 'vxlan' } });
export const networkConfig = parseNetworkConfig(networkConfigJson);
export const forever = new AbortController().signal;

export interface Host {
  readonly ip: string;
  /** Published as BackendData.InstanceID (Alibaba resolves hosts by it). */
  readonly instanceId?: string | undefined;
  /** BackendData.RouteDomain, e.g. `aws:vpc-…`. */
  readonly domain: string;
}

/** A lease value as a hybrid vxlan agent publishes it. */
export function agentAttrs(h: Host): LeaseAttrs {
  const data: Record<string, JsonValue> = { VNI: 1, VtepMAC: macFor(h.ip), RouteDomain: h.domain };
  if (h.instanceId !== undefined) data.InstanceID = h.instanceId;
  return { publicIp: h.ip, backendType: 'vxlan', backendData: data };
}

/** One acquisition per host, as each host's agent would do it. */
export async function acquireAll(store: EtcdLeaseStore, hosts: readonly Host[]): Promise<Lease[]> {
  const out: Lease[] = [];
  for (const h of hosts) out.push(await store.acquire(networkConfig, { attrs: agentAttrs(h) }, forever));
  return out;
}

/** Deletes a lease key as an expired etcd lease would. */
export async function dropLease(client: Etcd3, store: EtcdLeaseStore, lease: Lease): Promise<void> {
  await client.delete().key(`${store.subnetsPrefix}${lease.key}`).exec();
}

export function destinationOf(lease: Lease): string {
  return formatCidr(lease.subnet);
}

function macFor(ip: string): string {
  const [a = 0, b = 0, c = 0, d = 0] = ip.split('.').map(Number);
  return ['0e', 'aa', a, b, c, d].map((x) => (typeof x === 'number' ? x.toString(16).padStart(2, '0') : x)).join(':');
}


/** `promise`'s value, or `fallback` when it takes longer than `ms` (the timer does not hold the process). */
export async function within<T, F>(promise: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<F>((resolve) => (timer = setTimeout(() => resolve(fallback), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The first window in which more calls arrived than a token bucket of `capacity`,
 * refilled at `perSecond`, lets through: n calls in [t_i, t_j] need n ≤ capacity +
 * perSecond × (t_j − t_i). Undefined when every window is within the bucket.
 */
export function bucketViolation(times: readonly number[], capacity: number, perSecond: number): string | undefined {
  const t = [...times].sort((a, b) => a - b);
  for (let i = 0; i < t.length; i++) {
    for (let j = i; j < t.length; j++) {
      const allowed = capacity + (perSecond * (t[j]! - t[i]!)) / 1000;
      if (j - i + 1 > allowed) return `${j - i + 1} calls in ${t[j]! - t[i]!} ms (allowed ${allowed.toFixed(1)})`;
    }
  }
  return undefined;
}

export function mutatingCalls(calls: readonly CallRecord[]): CallRecord[] {
  return calls.filter((c) => MUTATING_ACTIONS.has(c.action));
}

/** Successful CreateRoutes per `<table> <destination>`: every route must be created once. */
export function createsPerRoute(calls: readonly CallRecord[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const c of calls) {
    if (c.action !== 'CreateRoute' || c.code !== 'ok') continue;
    const key = `${c.params.RouteTableId} ${c.params.DestinationCidrBlock}`;
    out.set(key, (out.get(key) ?? 0) + 1);
  }
  return out;
}

// --- AWS ---------------------------------------------------------------------

export interface AwsWorld {
  readonly endpoint: string;
  readonly admin: EmulatorAdmin;
  readonly vpcId: string;
  readonly domain: string;
  /** The tables tagged for the cluster, sorted. */
  readonly tables: readonly string[];
  /** Running instances, one address each. */
  readonly instances: readonly { readonly id: string; readonly ip: string }[];
  readonly clusterName: string;
  hosts(from?: number, to?: number): Host[];
  /** A provider as `tartan controller` builds it, with this access key (the emulator logs it). */
  provider(accessKeyId: string, opts?: Partial<AwsProviderOptions>): AwsProvider;
  close(): Promise<void>;
}

export interface AwsWorldOptions {
  /** The emulator in its own process (its call-log times are then not held up by this process). */
  readonly spawned?: boolean;
  readonly tables: number;
  readonly quota: number;
  readonly instances: number;
  /** EC2's documented throttling (default on). */
  readonly limits?: boolean;
  /** SourceDestCheck of the seeded instances (default off, as the Terraform modules launch them). */
  readonly sourceDestCheck?: boolean;
  readonly clusterName?: string;
}

export function vpcIp(n: number): string {
  const k = n + 10;
  return `192.168.${k >> 8}.${k & 255}`;
}

export async function startAwsWorld(o: AwsWorldOptions): Promise<AwsWorld> {
  const limits = o.limits ?? true;
  const emu = o.spawned
    ? await spawnAwsEmulator(['--route-quota', String(o.quota), ...(limits ? [] : ['--no-limits'])])
    : await startAwsEmulator({ routeQuota: o.quota, limits: { enabled: limits } });
  const clusterName = o.clusterName ?? 'e2e';
  const providers: AwsProvider[] = [];
  try {
    const { admin } = emu;
    const vpcId = (await admin.seedVpc({ cidr: '192.168.0.0/16' })).id;
    const tables: string[] = [];
    for (let i = 0; i < o.tables; i++) {
      tables.push((await admin.seedRouteTable({ vpcId, quota: o.quota, tags: { 'tartan.io/cluster': clusterName, Name: `e2e-${i}` } })).id);
    }
    // A table of another cluster in the same VPC: never touched.
    await admin.seedRouteTable({ vpcId, tags: { 'tartan.io/cluster': `${clusterName}-other` } });
    const instances = await seedInstances(admin, vpcId, o.instances, o.sourceDestCheck ?? false);
    const domain = `aws:${vpcId}`;
    return {
      endpoint: emu.endpoint, admin, vpcId, domain, tables: tables.sort(), instances, clusterName,
      hosts: (from = 0, to = instances.length) => instances.slice(from, to).map((i) => ({ ip: i.ip, instanceId: i.id, domain })),
      provider: (accessKeyId, opts = {}) => {
        const p = createAwsProvider({
          region: 'us-east-1', endpoint: emu.endpoint, credentials: { accessKeyId, secretAccessKey: 'secret' },
          clusterNetworks: [NETWORK], routeTables: { tag: tartanClusterTag(clusterName) }, vpcId, routeQuota: o.quota, ...opts,
        });
        providers.push(p);
        return p;
      },
      close: async () => {
        for (const p of providers) p.close();
        await emu.close();
      },
    };
  } catch (err) {
    await emu.close();
    throw err;
  }
}

async function seedInstances(admin: EmulatorAdmin, vpcId: string, n: number, sourceDestCheck: boolean): Promise<{ id: string; ip: string }[]> {
  const out = new Array<{ id: string; ip: string }>(n);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, 32) }, async () => {
    for (let i = next++; i < n; i = next++) {
      const ip = vpcIp(i);
      out[i] = { id: (await admin.seedInstance({ vpcId, privateIp: ip, sourceDestCheck })).id, ip };
    }
  }));
  return out;
}

// --- `tartan controller` as a process ------------------------------------------

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

export interface ControllerProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly identity: string;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Runs `node src/cli/main.ts controller …` with this node binary directly (not via
 * npx), so the PID is the controller's own: SIGKILL then really kills the leader.
 */
/** `main`: the CLI's entry file (default the TypeScript source; the memory bench runs a built copy). */
export function spawnController(o: { identity: string; args: readonly string[]; env?: Readonly<Record<string, string>>; main?: string }): ControllerProcess {
  const child = spawnTracked(process.execPath, [o.main ?? MAIN, 'controller', '--identity', o.identity, ...o.args], {
    env: { ...process.env, AWS_EC2_METADATA_DISABLED: 'true', ...o.env },
  });
  const out = collectOutput(child);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  if (child.pid === undefined) throw new Error('controller did not start');
  return {
    child, pid: child.pid, identity: o.identity, exited,
    output: () => out.text(),
    stop: (signal = 'SIGTERM') => stopChild(child, signal),
  };
}

/** The flags that point `tartan controller` at an AWS world. */
export function awsControllerArgs(world: AwsWorld, o: { etcd: string; prefix: string; quota: number; resync?: string; ttl?: string; logLevel?: string }): string[] {
  return [
    '--etcd-endpoints', o.etcd, '--etcd-prefix', o.prefix,
    '--provider', 'aws', '--cloud-endpoint', world.endpoint, '--region', 'us-east-1', '--vpc-id', world.vpcId,
    '--cluster-name', world.clusterName, '--route-quota', String(o.quota),
    '--resync-period', o.resync ?? '2s', '--leader-elect-ttl', o.ttl ?? '2s', '--log-level', o.logLevel ?? 'info',
  ];
}

/** The etcd key an AWS world's controller leads on under `prefix`: `<prefix>/controller/leader/aws/<domain-slug>`. */
export function awsLeaderKey(world: Pick<AwsWorld, 'domain'>, prefix: string): string {
  return `${prefix}/controller/leader/${electionScope('aws', world.domain).key}`;
}

export function awsEnv(accessKeyId: string): Record<string, string> {
  return { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: 'secret', AWS_REGION: 'us-east-1' };
}
