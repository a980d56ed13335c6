// Client-side rate limit: a token bucket set below the cloud's documented one, so a
// well-behaved controller never sees a throttling error in steady state.
import { type Clock, realClock } from '../../src/util/time.ts';

export interface TokenBucketOptions {
  /** Bucket size (burst). */
  readonly capacity: number;
  /** Tokens added per second. */
  readonly refillPerSecond: number;
  readonly clock?: Clock;
}

export class TokenBucket {
  readonly #capacity: number;
  readonly #refillPerMs: number;
  readonly #clock: Clock;
  #tokens: number;
  #updatedAt: number;
  /** Waiters are served in order, so no caller starves. */
  #queue: Promise<void> = Promise.resolve();

  constructor(opts: TokenBucketOptions) {
    this.#capacity = opts.capacity;
    this.#refillPerMs = opts.refillPerSecond / 1000;
    this.#clock = opts.clock ?? realClock;
    this.#tokens = opts.capacity;
    this.#updatedAt = this.#clock.now();
  }

  /** Waits until one token is available and takes it. */
  async take(signal?: AbortSignal): Promise<void> {
    const turn = this.#queue.then(() => this.#takeNow(signal));
    this.#queue = turn.catch(() => {});
    await turn;
  }

  /** Empties the bucket, e.g. after the server said we were throttled anyway. */
  drain(): void {
    this.#refill();
    this.#tokens = Math.min(this.#tokens, 0);
  }

  async #takeNow(signal?: AbortSignal): Promise<void> {
    for (;;) {
      this.#refill();
      if (this.#tokens >= 1) {
        this.#tokens -= 1;
        return;
      }
      const waitMs = Math.ceil((1 - this.#tokens) / this.#refillPerMs);
      await this.#clock.sleep(waitMs, signal);
    }
  }

  #refill(): void {
    const now = this.#clock.now();
    this.#tokens = Math.min(this.#capacity, this.#tokens + (now - this.#updatedAt) * this.#refillPerMs);
    this.#updatedAt = now;
  }
}
