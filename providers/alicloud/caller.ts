// Every API call goes through here: a token bucket per API (below the account's
// flow control), jittered retries of transient failures, and a count of every
// attempt by API and result (ok, throttled, server_error, network, busy, error).
import { RetryableError } from '../../src/errors.ts';
import type { Logger } from '../../src/observe/log.ts';
import type { Clock } from '../../src/util/time.ts';
import { CallCounter } from '../shared/calls.ts';
import { withRetry, type RetryOptions } from '../shared/retry.ts';
import { TokenBucket } from '../shared/token-bucket.ts';
import { AlicloudApiError, TransientApiError } from './api.ts';
import type { RateLimit, VpcAction } from './options.ts';
import { BUSY_CODES } from './ownership.ts';

export interface CallerOptions {
  readonly rateLimits: Readonly<Record<VpcAction, RateLimit>>;
  readonly retry: Pick<RetryOptions, 'attempts' | 'baseMs' | 'maxMs'>;
  readonly clock: Clock;
  readonly logger: Logger;
}

export class ApiCaller {
  readonly counter = new CallCounter();
  readonly #buckets = new Map<VpcAction, TokenBucket>();
  readonly #o: CallerOptions;

  constructor(o: CallerOptions) {
    this.#o = o;
  }

  /**
   * Calls `fn` as `action`, retrying throttling, 5xx and dropped connections,
   * and, for writes, the codes that say another change in the VPC is unsettled.
   */
  async call<T>(action: VpcAction, signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
    const bucket = this.#bucket(action);
    return await withRetry(signal, async () => {
      await bucket.take(signal);
      try {
        const result = await fn();
        this.counter.record(action, 'ok');
        return result;
      } catch (err) {
        throw this.#classify(action, bucket, err);
      }
    }, {
      ...this.#o.retry,
      clock: this.#o.clock,
      onRetry: (err, attempt, delayMs) => this.#o.logger.warn({ action, attempt, delayMs, err: err.message }, 'alicloud: retrying'),
    });
  }

  #classify(action: VpcAction, bucket: TokenBucket, err: unknown): unknown {
    if (err instanceof TransientApiError) {
      this.counter.record(action, err.kind);
      // The server says we are over its limit: stop spending what the bucket thinks we have.
      if (err.kind === 'throttled') bucket.drain();
      return err;
    }
    if (err instanceof AlicloudApiError && BUSY_CODES.has(err.code)) {
      this.counter.record(action, 'busy');
      return new RetryableError(`${action}: the VPC has an unsettled change (${err.code})`, { cause: err });
    }
    this.counter.record(action, 'error');
    return err;
  }

  #bucket(action: VpcAction): TokenBucket {
    let b = this.#buckets.get(action);
    if (!b) this.#buckets.set(action, (b = new TokenBucket({ ...this.#o.rateLimits[action], clock: this.#o.clock })));
    return b;
  }
}
