// Retries of transient failures (throttling, 5xx, dropped connections) with
// jittered exponential backoff; everything else is thrown at once.
import { RetryableError } from '../../src/errors.ts';
import { type Clock, backoffDelay, realClock } from '../../src/util/time.ts';

export interface RetryOptions {
  readonly attempts?: number;
  readonly baseMs?: number;
  readonly maxMs?: number;
  readonly clock?: Clock;
  readonly random?: () => number;
  /** Called before each wait, e.g. to count retries. */
  readonly onRetry?: (err: RetryableError, attempt: number, delayMs: number) => void;
}

export async function withRetry<T>(signal: AbortSignal, fn: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const attempts = opts.attempts ?? 8;
  const clock = opts.clock ?? realClock;
  for (let attempt = 0; ; attempt++) {
    signal.throwIfAborted();
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof RetryableError) || attempt + 1 >= attempts) throw err;
      const delay = Math.max(err.retryAfterMs ?? 0, backoffDelay(attempt, opts.baseMs ?? 200, opts.maxMs ?? 10_000, opts.random));
      opts.onRetry?.(err, attempt, delay);
      await clock.sleep(delay, signal);
    }
  }
}
