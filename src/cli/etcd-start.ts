// etcd unreachable at start: both daemons wait and retry, as flanneld does, and are
// not ready meanwhile; `--etcd-start-timeout` is for those who prefer to exit.
// This wraps only the first store call of a daemon; later calls have their own
// deadlines and retries in src/lease.
import { InvalidInputError, errorMessage } from '../errors.ts';
import { flagTable } from '../config/flags.ts';
import type { Health } from '../observe/health.ts';
import type { Logger } from '../observe/log.ts';
import { type Clock, backoffDelay, realClock } from '../util/time.ts';

export const ETCD_START_FLAGS = flagTable([
  { name: 'etcd-start-timeout', type: 'duration', default: '0s', min: '0s', max: '24h', help: 'at start, wait this long for etcd, then exit 1 (0 = wait forever, retrying with backoff, as flanneld does)' },
]);

export interface EtcdStartOptions {
  readonly endpoints: readonly string[];
  /** 0 = wait forever. */
  readonly timeoutMs: number;
  readonly log: Logger;
  readonly health?: Health | undefined;
  readonly signal: AbortSignal;
  readonly clock?: Clock | undefined;
  /** Backoff between attempts: from baseMs, doubling, capped at maxMs (jittered). */
  readonly baseMs?: number | undefined;
  readonly maxMs?: number | undefined;
}

/** Runs `first` until it succeeds; bad input (a missing or invalid network config) is not retried. */
export async function waitForEtcd<T>(o: EtcdStartOptions, first: () => Promise<T>): Promise<T> {
  const clock = o.clock ?? realClock;
  const started = clock.now();
  const where = o.endpoints.map(withoutUserinfo).join(',');
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        return await untilAborted(first(), o.signal);
      } catch (err) {
        if (o.signal.aborted || err instanceof InvalidInputError) throw err;
        const cause = errorMessage(err);
        const message = `waiting for etcd at ${where}: ${cause}`;
        o.health?.setReason('etcd', message);
        if (o.timeoutMs > 0 && clock.now() - started >= o.timeoutMs) {
          throw new Error(`etcd at ${where} unreachable for ${o.timeoutMs} ms (--etcd-start-timeout): ${cause}`, { cause: err });
        }
        o.log.warn({ attempt: attempt + 1 }, message);
        const delay = backoffDelay(attempt, o.baseMs ?? 1000, o.maxMs ?? 30_000);
        const left = o.timeoutMs > 0 ? Math.max(0, started + o.timeoutMs - clock.now()) : delay;
        await clock.sleep(Math.min(delay, left), o.signal);
      }
    }
  } finally {
    o.health?.setReason('etcd', undefined);
  }
}

function withoutUserinfo(endpoint: string): string {
  try {
    const url = new URL(endpoint);
    return `${url.protocol}//${url.host}`;
  } catch {
    return endpoint;
  }
}

/** The store's first call may not take a signal; SIGTERM must not wait for it. */
async function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted();
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_resolve, reject) => {
      onAbort = () => reject(signal.reason as Error);
      signal.addEventListener('abort', onAbort, { once: true });
    })]);
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}
