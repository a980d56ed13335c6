// Alibaba provider throughput through the VPC API emulator with its default
// flow control and Pending → Available delay on: fill one route table to its
// default quota (200 custom entries; 50 with --quick) the way the controller
// would, i.e. observe (list + capacity) and then batch-create.
//
// Lower bound: a write is refused while any entry of the VPC is Pending, so
// batches are serial and each costs at least the Pending delay:
//   max(ceil(N / batch) × pendingMs, ceil(N / batch) / write rate).
import { performance } from 'node:perf_hooks';
import type { DesiredRoute } from '../../providers/route-table.ts';
import { DEFAULT_WRITE_LIMIT } from '../emulators/alicloud/emulator.ts';
import { startAlicloudFixture } from '../emulators/alicloud/fixture.ts';
import type { BenchOptions, BenchRow } from './result.ts';

const SUITE = 'provider-alicloud';

export default async function bench(opts: BenchOptions): Promise<BenchRow[]> {
  const n = opts.quick ? 50 : 200;
  const f = await startAlicloudFixture({ instances: 10 });
  const signal = new AbortController().signal;
  try {
    const settings = f.emu.admin.settings();
    const routes: DesiredRoute[] = Array.from({ length: n }, (_, i) => ({
      destination: `10.244.${i}.0/24`,
      nextHop: { kind: 'instance', id: f.instances[i % f.instances.length]!.id },
    }));
    const started = performance.now();
    await f.provider.listRoutes(f.tableId, signal);
    const { quota, used } = await f.provider.capacity(f.tableId, signal);
    if (quota - used < n) throw new Error(`table has room for ${quota - used} routes, the bench needs ${n}`);
    const failures: string[] = [];
    for (let i = 0; i < n; i += f.provider.maxBatch) {
      const result = await f.provider.createRoutes(f.tableId, routes.slice(i, i + f.provider.maxBatch), signal);
      failures.push(...result.failed.map((x) => `${x.destination}: ${x.error.message}`));
    }
    const wallMs = performance.now() - started;
    if (failures.length > 0) throw new Error(`${failures.length} routes failed, e.g. ${failures[0]}`);
    const listing = await f.provider.listRoutes(f.tableId, signal);
    const active = listing.owned.filter((r) => r.state === 'active').length;
    if (active !== n) throw new Error(`expected ${n} active owned routes, found ${active}`);

    const batches = Math.ceil(n / Math.min(f.provider.maxBatch, settings.maxBatch));
    const lowerMs = Math.max(batches * settings.pendingMs, (batches / DEFAULT_WRITE_LIMIT.refillPerSecond) * 1000);
    const calls = f.emu.admin.calls();
    const apiCalls = calls.length - 1; // the last listRoutes above is the check, not the work
    const throttled = calls.filter((c) => c.code.startsWith('Throttling')).length;
    const conflicts = calls.filter((c) => ['IncorrectRouteEntryStatus', 'TaskConflict', 'OperationConflict'].includes(c.code)).length;
    const ratio = wallMs / lowerMs;
    const note = `${n} routes, ${batches} batches, Pending ${settings.pendingMs} ms`;
    return [
      { suite: SUITE, metric: `create ${n} routes: wall time`, value: wallMs / 1000, unit: 's', note },
      { suite: SUITE, metric: `create ${n} routes: lower bound the limits allow`, value: lowerMs / 1000, unit: 's', note },
      { suite: SUITE, metric: `create ${n} routes: wall / lower bound`, value: ratio, unit: 'ratio', target: '≤ 1.1', met: ratio <= 1.1 },
      { suite: SUITE, metric: `create ${n} routes: API calls per route`, value: apiCalls / n, unit: 'calls', note: `${apiCalls} calls` },
      { suite: SUITE, metric: `create ${n} routes: throttling errors seen`, value: throttled, unit: 'errors', target: '0', met: throttled === 0 },
      { suite: SUITE, metric: `create ${n} routes: busy/conflict answers`, value: conflicts, unit: 'errors', target: '0', met: conflicts === 0 },
    ];
  } finally {
    await f.close();
  }
}
