// Every compute call goes through here: a client-side token bucket per quota
// group (reads, writes) sized below the project's per-minute limits, retries of
// transient failures with jittered backoff, and a count of every attempt by
// operation and result. A throttled answer empties the bucket and waits for the
// next quota window, since GCE refills rate quotas on the minute, not gradually.
import { RetryableError } from '../../src/errors.ts';
import type { Logger } from '../../src/observe/log.ts';
import type { Clock } from '../../src/util/time.ts';
import { CallCounter } from '../shared/calls.ts';
import { withRetry } from '../shared/retry.ts';
import { TokenBucket } from '../shared/token-bucket.ts';
import type { ResolvedGceOptions } from './options.ts';
import { GceApiError, GceThrottledError } from './wire.ts';

export class GceCalls {
  readonly counter = new CallCounter();
  readonly #reads: TokenBucket;
  readonly #writes: TokenBucket;
  readonly #clock: Clock;
  readonly #windowMs: number;
  readonly #retry: ResolvedGceOptions['retry'];
  readonly #log: Logger;

  constructor(o: ResolvedGceOptions) {
    this.#clock = o.clock;
    this.#reads = new TokenBucket({ ...o.readBucket, clock: o.clock });
    this.#writes = new TokenBucket({ ...o.writeBucket, clock: o.clock });
    this.#windowMs = o.windowMs;
    this.#retry = o.retry;
    this.#log = o.logger;
  }

  read<T>(operation: string, signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
    return this.#run(operation, this.#reads, signal, fn);
  }

  write<T>(operation: string, signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
    return this.#run(operation, this.#writes, signal, fn);
  }

  async #run<T>(operation: string, bucket: TokenBucket, signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
    return withRetry(signal, async () => {
      await bucket.take(signal);
      try {
        const value = await fn();
        this.counter.record(operation, 'ok');
        return value;
      } catch (err) {
        this.counter.record(operation, resultOf(err));
        if (err instanceof GceThrottledError) {
          bucket.drain();
          throw new GceThrottledError(err.message, { cause: err, retryAfterMs: this.#untilNextWindow() });
        }
        throw err;
      }
    }, {
      ...this.#retry,
      clock: this.#clock,
      onRetry: (err, attempt, delayMs) => this.#log.debug({ operation, attempt, delayMs, err: err.message }, 'retrying compute call'),
    });
  }

  #untilNextWindow(): number {
    const now = this.#clock.now();
    return this.#windowMs - (now % this.#windowMs);
  }
}

function resultOf(err: unknown): string {
  if (err instanceof GceThrottledError) return 'throttled';
  if (err instanceof RetryableError) return 'unavailable';
  if (err instanceof GceApiError) {
    if (err.status === 404) return 'not_found';
    if (err.status === 409) return 'conflict';
  }
  return 'error';
}
