// Pings between lab namespaces: one-shot (bounded by count and timeout), a
// continuous stream counting loss while something else happens, and a full matrix.
import type { ChildProcess } from 'node:child_process';
import { collectOutput, spawnTracked } from '../support/process.ts';
import type { Lab, LabPod } from './lab.ts';
import { nsExec } from './netns.ts';

export interface PingResult {
  readonly transmitted: number;
  readonly received: number;
  readonly lost: number;
  readonly output: string;
}

export interface PingOptions {
  readonly count?: number | undefined;
  /** Seconds between packets (below 0.2 needs root, which the lab has). */
  readonly interval?: number | undefined;
  /** Seconds to wait for each reply. */
  readonly timeout?: number | undefined;
  /** Don't fragment; with `size`, proves the path MTU. */
  readonly size?: number | undefined;
}

function pingArgs(to: string, count: number, o: PingOptions): string[] {
  const args = ['-n', '-q', '-c', String(count), '-i', String(o.interval ?? 0.05), '-W', String(o.timeout ?? 2)];
  if (o.size !== undefined) args.push('-s', String(o.size), '-M', 'do');
  return [...args, to];
}

export function parsePing(output: string, count: number): PingResult {
  const m = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(output);
  const transmitted = m ? Number(m[1]) : count;
  const received = m ? Number(m[2]) : 0;
  return { transmitted, received, lost: transmitted - received, output };
}

export async function ping(from: string, to: string, o: PingOptions = {}): Promise<PingResult> {
  const count = o.count ?? 2;
  const timeoutMs = (count * (o.interval ?? 0.05) + (o.timeout ?? 2) + 5) * 1000;
  const res = await nsExec(from, 'ping', pingArgs(to, count, o), { timeoutMs });
  return parsePing(res.stdout + res.stderr, count);
}

/** A ping stream of `count` packets every `interval` s; `done` resolves when the last reply is in (or timed out). */
export function pingStream(from: string, to: string, o: PingOptions & { count: number }): { done: Promise<PingResult>; child: ChildProcess } {
  const child = spawnTracked('ip', ['netns', 'exec', from, 'ping', ...pingArgs(to, o.count, { interval: 0.02, timeout: 1, ...o })]);
  const output = collectOutput(child);
  const done = new Promise<PingResult>((resolve) => {
    child.once('close', () => resolve(parsePing(output.text(), o.count)));
  });
  return { done, child };
}

export interface MatrixCell {
  readonly from: LabPod;
  readonly to: LabPod;
  readonly family: 4 | 6;
  readonly result: PingResult;
}

/** Every pod pings every other pod (both families when asked), a few at a time. */
export async function pingMatrix(
  lab: Lab, o: PingOptions & { families?: ReadonlyArray<4 | 6>; pods?: readonly LabPod[] } = {},
): Promise<MatrixCell[]> {
  const pods = o.pods ?? lab.pods;
  const jobs: Array<() => Promise<MatrixCell>> = [];
  for (const family of o.families ?? [4]) {
    for (const from of pods) {
      for (const to of pods) {
        if (from === to) continue;
        const target = family === 4 ? to.ip : to.ip6;
        if (target === undefined) throw new Error(`pod ${to.ns} has no IPv${family} address`);
        jobs.push(async () => ({ from, to, family, result: await ping(from.ns, target, o) }));
      }
    }
  }
  return await limit(jobs, 12);
}

/** The cells that lost packets, as readable lines (empty when all replied). */
export function failures(cells: readonly MatrixCell[]): string[] {
  return cells
    .filter((c) => c.result.received !== c.result.transmitted || c.result.transmitted === 0)
    .map((c) => `${c.from.ns} → ${c.to.ns} (IPv${c.family}): ${c.result.received}/${c.result.transmitted}`);
}

async function limit<T>(jobs: ReadonlyArray<() => Promise<T>>, concurrency: number): Promise<T[]> {
  const results: T[] = new Array<T>(jobs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, jobs.length) }, worker));
  return results;
}

export interface SequenceResult {
  /** Highest icmp_seq answered. */
  readonly lastAnswered: number;
  readonly answered: number;
  /** Sequence numbers below `lastAnswered` that got no reply: packets lost mid-stream. */
  readonly missing: readonly number[];
  readonly output: string;
}

/**
 * An open-ended ping stream (every `interval` s, default 0.02 = 50/s) that runs until
 * stop(), bounded by `maxSeconds`. stop() reports every sequence number lost before
 * the last reply, so a gap anywhere in the stream shows, while the packet in flight
 * when it was stopped does not count as lost.
 */
export function pingSequence(from: string, to: string, o: { interval?: number; maxSeconds?: number } = {}): { stop(): Promise<SequenceResult> } {
  const child = spawnTracked('ip', ['netns', 'exec', from, 'ping', '-n', '-i', String(o.interval ?? 0.02), '-W', '1', '-w', String(o.maxSeconds ?? 120), to]);
  const output = collectOutput(child);
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  return {
    stop: async () => {
      if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGINT');
      await closed;
      const seen = new Set<number>();
      for (const line of output.lines) {
        const m = /^\d+ bytes from .*icmp_seq=(\d+)/.exec(line);
        if (m) seen.add(Number(m[1]));
      }
      const lastAnswered = Math.max(0, ...seen);
      const missing = Array.from({ length: lastAnswered }, (_, i) => i + 1).filter((s) => !seen.has(s));
      return { lastAnswered, answered: seen.size, missing, output: output.text() };
    },
  };
}
