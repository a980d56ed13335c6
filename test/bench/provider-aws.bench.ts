// AWS provider through the EC2 emulator (its own process, EC2's documented
// mutating bucket on: 50 calls, refilled at 5/s): fill a route table to its quota
// as a controller would on a new cluster — first the default quota (50), then a
// raised one (1,000; 200 with --quick) — and compare the wall time with the
// fastest the account's bucket allows, max(0, (N − 50) / 5) seconds.
import { createAwsProvider } from '../../providers/aws/index.ts';
import { DOCUMENTED_LIMITS } from '../emulators/aws-ec2/limits.ts';
import { spawnAwsEmulator } from '../emulators/aws-ec2/spawn.ts';
import type { BenchOptions, BenchRow } from './result.ts';

const SUITE = 'provider-aws';
const CONCURRENCY = 16;
const HOSTS = 16;

export default async function bench(opts: BenchOptions): Promise<BenchRow[]> {
  return [
    ...await fillTable({ quota: 50, label: '50 routes (default quota)' }),
    ...await fillTable({ quota: opts.quick ? 200 : 1000, label: `${opts.quick ? 200 : 1000} routes (quota raised)` }),
  ];
}

async function fillTable({ quota, label }: { quota: number; label: string }): Promise<BenchRow[]> {
  const emu = await spawnAwsEmulator(['--route-quota', String(quota)]);
  const signal = new AbortController().signal;
  try {
    const vpcId = (await emu.admin.seedVpc({ cidr: '192.168.0.0/16' })).id;
    const table = (await emu.admin.seedRouteTable({ vpcId, quota })).id;
    for (let i = 0; i < HOSTS; i++) await emu.admin.seedInstance({ vpcId, privateIp: `192.168.0.${i + 1}` });
    const provider = createAwsProvider({
      region: 'us-east-1', endpoint: emu.endpoint, credentials: { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench' },
      clusterNetworks: ['10.244.0.0/16'], routeTables: { ids: [table] }, routeQuota: quota,
    });
    try {
      await provider.tables(signal);
      const hops = [...(await provider.resolveHosts(Array.from({ length: HOSTS }, (_, i) => ({ publicIp: `192.168.0.${i + 1}` })), signal)).values()];
      const { used } = await provider.capacity(table, signal);
      const n = quota - used;
      const before = totalCalls(provider.calls());
      const startedAt = Date.now();

      const started = performance.now();
      let next = 0;
      await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
        for (let i = next++; i < n; i = next++) {
          await provider.createRoute(table, { destination: `10.244.${Math.floor(i / 4)}.${(i % 4) * 64}/26`, nextHop: hops[i % hops.length]! }, signal);
        }
      }));
      const wall = (performance.now() - started) / 1000;
      const calls = totalCalls(provider.calls()) - before;

      const owned = (await provider.listRoutes(table, signal)).owned.length;
      if (owned !== n) throw new Error(`${label}: ${owned} routes listed, ${n} created`);
      const ec2Throttles = (await emu.admin.calls({ since: startedAt })).filter((c) => c.code === 'RequestLimitExceeded').length;
      const clientThrottles = Object.values(provider.calls()).reduce((s, r) => s + (r.throttled ?? 0), 0);
      return rows(label, { n, wall, calls, throttles: Math.max(ec2Throttles, clientThrottles) });
    } finally {
      provider.close();
    }
  } finally {
    await emu.close();
  }
}

function rows(label: string, r: { n: number; wall: number; calls: number; throttles: number }): BenchRow[] {
  const { capacity, refillPerSecond } = DOCUMENTED_LIMITS.mutating;
  const bound = Math.max(0, (r.n - capacity) / refillPerSecond);
  const perRoute = r.calls / r.n;
  const out: BenchRow[] = [
    { suite: SUITE, metric: `${label}: wall time`, value: r.wall, unit: 's' },
    {
      suite: SUITE, metric: `${label}: lower bound from the rate limit`, value: bound, unit: 's',
      note: bound > 0 ? `max(0, (N − ${capacity}) / ${refillPerSecond})` : 'N fits in the bucket, so no ratio; the client keeps 2 of 50 tokens in reserve (≈0.4 s for the last 2 calls)',
    },
  ];
  if (bound > 0) {
    const ratio = r.wall / bound;
    out.push({ suite: SUITE, metric: `${label}: wall time / lower bound`, value: ratio, unit: '×', target: '≤ 1.1', met: ratio <= 1.1 });
  }
  out.push(
    { suite: SUITE, metric: `${label}: API calls per route`, value: perRoute, unit: 'calls', target: '≤ 1.05', met: perRoute <= 1.05 },
    { suite: SUITE, metric: `${label}: throttling errors`, value: r.throttles, unit: 'errors', target: '0', met: r.throttles === 0 },
  );
  return out;
}

function totalCalls(counts: Readonly<Record<string, Readonly<Record<string, number>>>>): number {
  return Object.values(counts).reduce((sum, byResult) => sum + Object.values(byResult).reduce((a, b) => a + b, 0), 0);
}
