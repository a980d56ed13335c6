// Memory of a process a bench started: VmRSS and friends from /proc, and the V8
// heap after a full GC, asked of the process through a preloaded hook (SIGUSR2).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '../support/wait.ts';

export interface Rss { readonly rss: number; readonly hwm: number; readonly anon: number; readonly file: number }
export interface Heap { readonly used: number; readonly total: number; readonly external: number }

/** MB from /proc/<pid>/status. */
export function readRss(pid: number): Rss {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const mb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) / 1024;
  return { rss: mb('VmRSS'), hwm: mb('VmHWM'), anon: mb('RssAnon'), file: mb('RssFile') };
}

/** Writes the hook into `dir`; the process needs `--expose-gc --import=<returned path>` in its NODE_OPTIONS. */
export function writeHeapHook(dir: string): string {
  const hook = join(dir, 'heap.mjs');
  writeFileSync(hook, `process.on('SIGUSR2', () => { globalThis.gc(); process.stderr.write('BENCH_HEAP ' + JSON.stringify(process.memoryUsage()) + '\\n'); });\n`);
  return hook;
}

/** heapUsed, heapTotal and external (MB) after a full GC; `output` is the process's stderr so far. */
export async function liveHeap(pid: number, output: () => string): Promise<Heap> {
  const lines = () => output().split('\n').filter((l) => l.startsWith('BENCH_HEAP '));
  const seen = lines().length;
  process.kill(pid, 'SIGUSR2');
  const line = await waitFor('the heap figure', () => lines()[seen], 10_000);
  const m = JSON.parse(line.slice('BENCH_HEAP '.length)) as { heapUsed: number; heapTotal: number; external: number };
  return { used: m.heapUsed / 1048576, total: m.heapTotal / 1048576, external: m.external / 1048576 };
}
