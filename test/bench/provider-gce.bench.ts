// GCE provider through the compute emulator with the documented rate quotas on
// (1,500 writes and 1,500 reads per project per minute): fill the network up to
// its routes quota, as a controller would on a new cluster, and compare the wall
// time with the fastest a well-behaved client can go.
//
// The lower bound is the sustained write rate: N inserts at 1,500/min take
// N × 40 ms. A client could finish sooner by spending a whole window's quota in
// one burst, but then it would throttle (or starve everyone else in the project)
// whenever the window edge falls badly; the provider budgets 90% of the quota
// with a one-second burst instead, so its target is ≤ 1.1 × the bound.
import { QuotaExceededError } from '../../src/errors.ts';
import { createGceProvider } from '../../providers/gce/index.ts';
import { DOCUMENTED_RATE_LIMITS, startGceEmulator } from '../emulators/gce/index.ts';
import type { BenchOptions, BenchRow } from './result.ts';

const SUITE = 'provider-gce';
const NET = 'tartan-net';
const ZONE = 'us-central1-a';
const CONCURRENCY = 32;

export default async function bench(opts: BenchOptions): Promise<BenchRow[]> {
  // Quick: flannel's historical default quota (100); full: today's default (250).
  const quota = opts.quick ? 100 : 250;
  const emu = await startGceEmulator({ token: 'bench', routeQuota: quota, operationTiming: { pendingMs: 100, runningMs: 400 } });
  const provider = createGceProvider({
    project: emu.project, network: NET, endpoint: emu.endpoint, accessToken: 'bench', clusterName: 'bench',
    clusterNetworks: ['10.244.0.0/16'],
  });
  const signal = new AbortController().signal;
  try {
    for (let i = 0; i < 16; i++) emu.admin.addInstance({ zone: ZONE, name: `node-${i}`, networkIP: `10.128.0.${i + 2}` });
    await provider.tables(signal);
    const { quota: q, used } = await provider.capacity(NET, signal);
    const hops = await provider.resolveHosts(Array.from({ length: 16 }, (_, i) => ({ publicIp: `10.128.0.${i + 2}` })), signal);
    const n = q - used;
    emu.admin.clearCalls();

    const started = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      for (let i = next++; i < n; i = next++) {
        await provider.createRoute(NET, { destination: `10.244.${i}.0/24`, nextHop: hops.get(`10.128.0.${(i % 16) + 2}`)! }, signal);
      }
    }));
    const wallMs = performance.now() - started;
    const timed = emu.admin.calls();

    const full = await provider.createRoute(NET, { destination: '10.244.255.0/24', nextHop: hops.get('10.128.0.2')! }, signal)
      .then(() => false, (err: unknown) => err instanceof QuotaExceededError);
    const owned = (await provider.listRoutes(NET, signal)).owned.length;
    const boundMs = (n * DOCUMENTED_RATE_LIMITS.windowMs) / DOCUMENTED_RATE_LIMITS.writesPerMinute;
    const ratio = wallMs / boundMs;
    const throttled = emu.admin.calls().filter((c) => c.status === 403 && !c.path.includes('/operations/')).length
      + Object.values(provider.calls()).reduce((s, byResult) => s + (byResult.throttled ?? 0), 0);
    const byMethod = new Map<string, number>();
    for (const c of timed) byMethod.set(c.id ?? '?', (byMethod.get(c.id ?? '?') ?? 0) + 1);
    const note = `${n} routes (quota ${q}, ${used} taken), concurrency ${CONCURRENCY}, operations 0.5 s`;
    return [
      { suite: SUITE, metric: `create ${n} routes up to the quota: wall time`, value: wallMs / 1000, unit: 's', note },
      { suite: SUITE, metric: 'lower bound at the documented 1,500 writes/min', value: boundMs / 1000, unit: 's', note: 'sustained rate, N × 60 s / 1,500' },
      { suite: SUITE, metric: 'wall time / lower bound', value: ratio, unit: 'x', target: '≤ 1.1', met: ratio <= 1.1 },
      {
        suite: SUITE, metric: 'API calls per route', value: timed.length / n, unit: 'calls',
        note: [...byMethod].map(([k, v]) => `${k} ${v}`).join(', '),
      },
      { suite: SUITE, metric: 'throttling errors seen', value: throttled, unit: 'errors', target: '0', met: throttled === 0 },
      {
        suite: SUITE, metric: 'network full: routes listed, next insert is QuotaExceededError', value: owned, unit: 'routes',
        target: `${n} and yes`, met: owned === n && full,
      },
    ];
  } finally {
    await provider.close();
    await emu.close();
  }
}
