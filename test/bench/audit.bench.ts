// `tartan audit` at size: 5,000 leases in a real etcd, 3 AWS route tables of
// 5,000 routes each in the EC2 emulator (documented throttling on, quota raised),
// seeded through the admin API. Measures the audit's wall time in process and as
// the CLI, and its API calls by operation (reads only, none per route).
import { execFile } from 'node:child_process';
import { audit, deadline } from '../../src/audit/index.ts';
import type { RouteTableReader } from '../../providers/route-table.ts';
import { DEFAULT_BUDGET } from '../../src/controller/planner.ts';
import { EtcdLeaseStore, createEtcdClient, encodeLeaseAttrs } from '../../src/lease/index.ts';
import { createAwsProvider } from '../../providers/aws/index.ts';
import { startAwsEmulator } from '../emulators/aws-ec2/emulator.ts';
import { startEtcd } from '../support/etcd.ts';
import type { BenchOptions, BenchRow } from './result.ts';

const SUITE = 'audit';
const LEASES = 5000;
const TABLES = 3;
const NETWORK = '10.0.0.0/8';
/** Lease i: 10.<i/256>.<i%256>.0/24 on host 192.168.<(i+1)/256>.<(i+1)%256>. */
const dest = (i: number): string => `10.${i >> 8}.${i & 255}.0/24`;
const ip = (i: number): string => `192.168.${(i + 1) >> 8}.${(i + 1) & 255}`;

export default async function bench(opts: BenchOptions): Promise<BenchRow[]> {
  const runs = opts.quick ? 1 : 3;
  const etcd = await startEtcd();
  const emulator = await startAwsEmulator({ routeQuota: LEASES + 10 });
  const client = createEtcdClient({ endpoints: [etcd.endpoint] });
  try {
    const { tables, store } = await seed(emulator, client);
    const env = { AWS_ACCESS_KEY_ID: 'AKIDBENCH', AWS_SECRET_ACCESS_KEY: 'secret' };
    const provider = () => createAwsProvider({
      region: 'us-east-1', endpoint: emulator.endpoint, credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
      clusterNetworks: [NETWORK], routeTables: { ids: tables }, routeQuota: LEASES + 10,
    });
    const times: number[] = [];
    let calls: Record<string, number> = {};
    let ok = 0;
    let phases = { hosts: 0, tables: 0 };
    const etcdBefore = total(store.requestCounts());
    for (let r = 0; r < runs; r++) {
      const p = provider();
      const clock = phaseClock(p);
      const since = Date.now();
      const started = performance.now();
      const report = await audit({
        leases: store, config: await store.getNetworkConfig(new AbortController().signal), store: { store: `etcd ${etcd.endpoint}`, prefix: store.prefix }, cloud: clock.reader,
        plan: { budget: DEFAULT_BUDGET }, deadline: deadline(120_000, new AbortController().signal),
      });
      times.push(performance.now() - started);
      phases = clock.phases();
      p.close();
      ok = report.summary.routes.ok;
      if (report.result !== 'ok') throw new Error(`the seeded cluster should audit clean: ${report.summary.problems} problems`);
      calls = {};
      for (const c of await emulator.admin.calls({ since })) calls[c.action] = (calls[c.action] ?? 0) + 1;
    }
    const cli = await runCli([
      'audit', '--etcd-endpoints', etcd.endpoint, '--etcd-prefix', store.prefix, '--cloud-endpoint', emulator.endpoint,
      '--region', 'us-east-1', '--route-table-ids', tables.join(','), '--route-quota', String(LEASES + 10), '--output', 'json', '--timeout', '120s',
    ], env);
    const last = times.at(-1)!;
    const median = [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)]! / 1000;
    const mutating = Object.entries(calls).filter(([a]) => !a.startsWith('Describe')).reduce((n, [, c]) => n + c, 0);
    const note = `${LEASES} leases, ${TABLES} tables × ${LEASES} routes, documented EC2 throttling on`;
    return [
      { suite: SUITE, metric: `audit ${LEASES} leases × ${TABLES} AWS tables: wall time (in process${runs > 1 ? `, median of ${runs}` : ''})`, value: median, unit: 's', target: '≤ 5', met: median <= 5, note },
      {
        suite: SUITE, metric: '… of which: host lookup (resolveHosts: DescribeInstances)', value: phases.hosts / 1000, unit: 's',
        note: 'last run; mostly the emulator matching each filter value against each instance',
      },
      { suite: SUITE, metric: '… of which: route tables (tables + listRoutes + capacity)', value: phases.tables / 1000, unit: 's', note: 'last run' },
      { suite: SUITE, metric: '… of which: the rest (etcd reads, drift, status, plan, report)', value: (last - phases.hosts - phases.tables) / 1000, unit: 's', note: 'last run' },
      { suite: SUITE, metric: 'same, as the CLI process (node start + JSON output)', value: cli.ms / 1000, unit: 's', target: '≤ 10', met: cli.code === 0 && cli.ms <= 10_000, note: `exit ${cli.code}` },
      { suite: SUITE, metric: 'routes checked ok', value: ok, unit: 'routes', target: String(LEASES * TABLES), met: ok === LEASES * TABLES },
      ...Object.entries(calls).sort().map(([action, n]): BenchRow => ({ suite: SUITE, metric: `API calls: ${action}`, value: n, unit: 'calls' })),
      { suite: SUITE, metric: 'API calls: mutating', value: mutating, unit: 'calls', target: '0', met: mutating === 0 },
      { suite: SUITE, metric: 'etcd requests per audit', value: (total(store.requestCounts()) - etcdBefore) / runs, unit: 'requests', note: 'leases + route status: one range each' },
    ];
  } finally {
    client.close();
    await emulator.close();
    await etcd.destroy();
  }
}

async function seed(emulator: Awaited<ReturnType<typeof startAwsEmulator>>, client: ReturnType<typeof createEtcdClient>) {
  const { admin } = emulator;
  const vpcId = (await admin.seedVpc({ cidr: '192.168.0.0/16' })).id;
  const instances: string[] = [];
  for (let i = 0; i < LEASES; i++) instances.push((await admin.seedInstance({ vpcId, privateIp: ip(i) })).id);
  const tables: string[] = [];
  for (let t = 0; t < TABLES; t++) {
    const id = (await admin.seedRouteTable({ vpcId, quota: LEASES + 10 })).id;
    for (let i = 0; i < LEASES; i++) await admin.seedRoute({ routeTableId: id, destination: dest(i), target: { instanceId: instances[i] } });
    tables.push(id);
  }
  const store = new EtcdLeaseStore({ client, prefix: '/bench-audit' });
  await client.put(`${store.prefix}/config`).value(JSON.stringify({ Network: NETWORK, Backend: { Type: 'aws-vpc' } }));
  for (let i = 0; i < LEASES; i += 250) {
    await Promise.all(Array.from({ length: Math.min(250, LEASES - i) }, (_, k) => i + k).map(async (n) => {
      const key = dest(n).replace('/', '-');
      // As a tartan agent in the VPC publishes it: only such leases get cloud routes.
      const backendData = { VNI: 1, VtepMAC: `0e:00:00:00:${((n >> 8) & 255).toString(16).padStart(2, '0')}:${(n & 255).toString(16).padStart(2, '0')}`, RouteDomain: `aws:${vpcId}`, InstanceID: instances[n]! };
      await client.put(`${store.subnetsPrefix}${key}`).value(encodeLeaseAttrs({ publicIp: ip(n), backendType: 'vxlan', backendData })).exec();
      await store.putRouteStatus(key, { state: 'programmed', tables: Object.fromEntries(tables.map((t) => [t, 'programmed' as const])) }, new AbortController().signal);
    }));
  }
  return { tables, store };
}

function runCli(args: readonly string[], env: Record<string, string>): Promise<{ code: number; ms: number }> {
  const started = performance.now();
  return new Promise((resolve) => {
    execFile(process.execPath, ['src/cli/main.ts', ...args], { env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 }, (err) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, ms: performance.now() - started });
    });
  });
}

function total(counts: Readonly<Record<string, number>>): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

/** Times the audit's two cloud phases: the host lookup, and the table listings (which overlap each other). */
function phaseClock(p: RouteTableReader): { reader: RouteTableReader; phases(): { hosts: number; tables: number } } {
  let hosts = 0;
  let first = Infinity;
  let last = 0;
  const span = async <T>(fn: () => Promise<T>): Promise<T> => {
    first = Math.min(first, performance.now());
    try {
      return await fn();
    } finally {
      last = Math.max(last, performance.now());
    }
  };
  const reader: RouteTableReader = {
    provider: p.provider,
    calls: () => p.calls(),
    resolveHosts: async (h, s) => {
      const t = performance.now();
      try {
        return await p.resolveHosts(h, s);
      } finally {
        hosts += performance.now() - t;
      }
    },
    tables: (s) => span(() => p.tables(s)),
    listRoutes: (t, s) => span(() => p.listRoutes(t, s)),
    capacity: (t, s) => span(() => p.capacity(t, s)),
  };
  return { reader, phases: () => ({ hosts, tables: last - first }) };
}
