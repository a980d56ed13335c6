// `tartan controller` resident memory with 5,000 leases in the VPC on a 50-route
// table (50 programmed, 4,950 overflow, 5,000 route statuses), against a private
// etcd and the EC2 emulator in a process of its own.
//
// It runs what deploy/ runs: the bundle `npm run build` makes (scripts/build.ts),
// with deploy/'s V8 flags and malloc settings. Without --quick the TypeScript
// source is measured too, for comparison. The same process
// is measured idle with no lease first, so the figure splits into what the runtime
// and libraries take and what the leases add; a preloaded hook answers SIGUSR2 with
// the V8 heap after a full GC (the live set).
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Etcd3 } from 'etcd3';
import { buildCli } from '../../scripts/build.ts';
import { EtcdLeaseStore, createEtcdClient } from '../../src/lease/index.ts';
import { startAwsWorld, waitFor } from '../e2e/controller-kit.ts';
import { type EtcdServer, startEtcd } from '../support/etcd.ts';
import { CONFIG, metric, putLeases, startController } from './controller-world.ts';
import { liveHeap, readRss, writeHeapHook } from './process-memory.ts';
import type { BenchOptions, BenchRow } from './result.ts';

const SUITE = 'controller';
const LEASES = 5000;
const TARGET_MB = 150;
/**
 * What deploy/ runs the controller with (systemd unit, Kubernetes manifest);
 * deploy.test.ts checks they agree. V8's old space capped at 64 MB holds 10,000
 * leases (live heap 40 MB measured); glibc with two arenas that give freed memory
 * back (instead of one arena per thread that keeps it).
 */
export const DEPLOYED_NODE_FLAGS = '--max-old-space-size=64 --max-semi-space-size=1';
export const DEPLOYED_MALLOC_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2', MALLOC_TRIM_THRESHOLD_: '131072' };

export default async function bench(opts: BenchOptions): Promise<BenchRow[]> {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const built = mkdtempSync(join(tmpdir(), 'tartan-js-'));
  const etcd = await startEtcd();
  const client = createEtcdClient({ endpoints: [etcd.endpoint] });
  try {
    const main = await buildCli(join(built, 'dist'));
    // The packages the bundle leaves external load from node_modules, as in deploy/image.
    symlinkSync(join(root, 'node_modules'), join(built, 'node_modules'));
    const rows = await measure(etcd, client, { label: 'npm run build', main, target: true });
    if (!opts.quick) rows.push(...await measure(etcd, client, { label: 'TypeScript source', main: join(root, 'src/cli/main.ts'), target: false }));
    return rows;
  } finally {
    client.close();
    await etcd.destroy();
    rmSync(built, { recursive: true, force: true });
  }
}

async function measure(etcd: EtcdServer, client: Etcd3, run: { label: string; main: string; target: boolean }): Promise<BenchRow[]> {
  const world = await startAwsWorld({ spawned: true, tables: 1, quota: 50, instances: LEASES });
  const prefix = `/bench-controller-mem-${process.pid}-${run.target ? 'js' : 'ts'}`;
  const hookDir = mkdtempSync(join(tmpdir(), 'tartan-bench-'));
  const hook = writeHeapHook(hookDir);
  try {
    await client.put(`${prefix}/config`).value(CONFIG).exec();
    const env = { ...DEPLOYED_MALLOC_ENV, NODE_OPTIONS: `${DEPLOYED_NODE_FLAGS} --expose-gc --import=${hook}` };
    const { ctl, metricsPort } = await startController(world, etcd, prefix, 50, { env, main: run.main });
    const passes = () => metric(metricsPort, /^tartan_controller_passes_total\{/);
    const idle = async (count: number) => {
      const before = await waitFor('metrics', async () => passes().catch(() => undefined), 30_000);
      await waitFor(`${count} passes`, async () => (await passes()) >= before + count, 60_000);
      const rss = readRss(ctl.pid);
      const heap = await liveHeap(ctl.pid, () => ctl.output());
      return { ...rss, heap, afterGc: readRss(ctl.pid).rss };
    };
    try {
      const empty = await idle(3);
      await putLeases(client, prefix, world.hosts(0, LEASES), 1);
      const store = new EtcdLeaseStore({ client, prefix });
      await waitFor(`${LEASES} route statuses`, async () => (await store.listRouteStatus(AbortSignal.timeout(10_000))).statuses.size === LEASES, 180_000);
      const overflow = await metric(metricsPort, /^tartan_controller_routes\{state="overflow"\}/);
      const full = await idle(3);
      const met = run.target ? { target: `≤ ${TARGET_MB}`, met: full.rss <= TARGET_MB } : {};
      return [
        {
          suite: SUITE, metric: `${LEASES} leases: controller resident memory (VmRSS), ${run.label}`, value: full.rss, unit: 'MB', ...met,
          note: `after 3 idle passes; ${overflow} of ${LEASES} leases overflow a 50-route table; peak (VmHWM) ${full.hwm.toFixed(0)} MB; RssAnon ${full.anon.toFixed(0)} MB, RssFile ${full.file.toFixed(0)} MB; ${DEPLOYED_NODE_FLAGS}, ${Object.entries(DEPLOYED_MALLOC_ENV).map(([k, v]) => `${k}=${v}`).join(' ')}`,
        },
        {
          suite: SUITE, metric: `no lease: controller resident memory (VmRSS), ${run.label}, same process`, value: empty.rss, unit: 'MB',
          note: `RssAnon ${empty.anon.toFixed(0)} MB, RssFile ${empty.file.toFixed(0)} MB: node, etcd3/gRPC, the AWS SDK${run.target ? '' : ', the type stripper'}`,
        },
        {
          suite: SUITE, metric: `${LEASES} leases: V8 heap in use after a full GC, ${run.label}`, value: full.heap.used, unit: 'MB',
          note: `${(full.heap.used - empty.heap.used).toFixed(1)} MB more than with no lease (${empty.heap.used.toFixed(1)} MB); heap reserved ${full.heap.total.toFixed(0)} MB (${empty.heap.total.toFixed(0)} MB with no lease); external ${full.heap.external.toFixed(0)} MB; VmRSS right after that GC ${full.afterGc.toFixed(0)} MB`,
        },
      ];
    } catch (err) {
      throw new Error(`${err instanceof Error ? err.message : String(err)}\n${ctl.output().slice(-3000)}`, { cause: err });
    } finally {
      await ctl.stop();
    }
  } finally {
    rmSync(hookDir, { recursive: true, force: true });
    await world.close();
  }
}


