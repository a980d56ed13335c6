// Every cloud API call goes through one of these: take a token → call → count →
// classify → drain → retry. A cloud supplies only what differs: its rate-limit
// groups and buckets, and how its errors read (classify → an Outcome, and the
// error to throw: a RetryableError is retried with jittered backoff).
//
// Token buckets sit below the cloud's documented limits, so a well-behaved
// controller never sees throttling in steady state. A throttling answer empties
// the group's bucket: the cloud's bucket is empty too (another client of the
// account used it), so waiting for refill is right.
//
// Where the token is taken (`tokenAt`): 'call' takes it just before `fn` runs.
// 'send' leaves it to `fn`, which awaits `beforeSend` at the last moment (AWS:
// inside the SDK pipeline, right before signing; see providers/aws/caller.ts), and
// then a bound on attempts in flight per group (`maxInFlight`) keeps the number of
// pipelines advancing at once small, so requests leave as evenly as their tokens.
import type { Logger } from '../../src/observe/log.ts';
import type { Clock } from '../../src/util/time.ts';
import type { ApiCallCounts } from '../route-table.ts';
import { CallCounter } from './calls.ts';
import type { Verdict } from './outcomes.ts';
import { type RetryOptions, withRetry } from './retry.ts';
import { Slots } from './slots.ts';
import { TokenBucket, type TokenBucketOptions } from './token-bucket.ts';

export type BucketSpec = Pick<TokenBucketOptions, 'capacity' | 'refillPerSecond'>;

export interface PacedCallerOptions<Op extends string, Group extends string> {
  /** The API's name in logs, e.g. `EC2`: "retrying EC2 call". */
  readonly api: string;
  /** The rate-limit group an operation draws from: one bucket (and one in-flight bound) per group. */
  readonly groupOf: (operation: Op) => Group;
  readonly buckets: Readonly<Record<Group, BucketSpec>>;
  /** Reads one failed attempt. Not asked when the caller's signal fired (counted `aborted`). */
  readonly classify: (err: unknown, operation: Op) => Verdict;
  /** Attempts in flight per group (a backoff wait holds none); default unbounded. */
  readonly maxInFlight?: number | undefined;
  /** 'call' (default): the token is taken before `fn` runs. 'send': `fn` awaits `beforeSend` itself. */
  readonly tokenAt?: 'call' | 'send' | undefined;
  readonly retry?: Pick<RetryOptions, 'attempts' | 'baseMs' | 'maxMs' | 'random'> | undefined;
  readonly clock: Clock;
  readonly logger: Logger;
}

export class PacedCaller<Op extends string, Group extends string = string> {
  readonly #o: PacedCallerOptions<Op, Group>;
  readonly #counter = new CallCounter();
  readonly #groups = new Map<Group, { readonly bucket: TokenBucket; readonly slots: Slots }>();

  constructor(o: PacedCallerOptions<Op, Group>) {
    this.#o = o;
    for (const [group, spec] of Object.entries(o.buckets) as [Group, BucketSpec][]) {
      this.#groups.set(group, { bucket: new TokenBucket({ ...spec, clock: o.clock }), slots: new Slots(o.maxInFlight ?? Number.POSITIVE_INFINITY) });
    }
  }

  /** With tokenAt 'send': waits for a token of the operation's group; awaited right before each attempt leaves. */
  readonly beforeSend = (operation: Op, signal: AbortSignal): Promise<void> => this.#group(operation).bucket.take(signal);

  /** Runs `fn` (one API call) with pacing, counting and retries. */
  async call<T>(operation: Op, signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
    const { api, logger } = this.#o;
    return await withRetry(signal, () => this.#attempt(operation, signal, fn), {
      ...this.#o.retry,
      clock: this.#o.clock,
      onRetry: (err, attempt, delayMs) => logger.debug({ api, operation, attempt, delayMs, err: err.message }, `retrying ${api} call`),
    });
  }

  /** Every attempt so far, by operation and Outcome. */
  counts(): ApiCallCounts {
    return this.#counter.counts();
  }

  async #attempt<T>(operation: Op, signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
    const { bucket, slots } = this.#group(operation);
    await slots.acquire(signal);
    try {
      if (this.#o.tokenAt !== 'send') await bucket.take(signal);
      return await this.#counted(operation, signal, fn);
    } finally {
      slots.release();
    }
  }

  async #counted<T>(operation: Op, signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
    try {
      const out = await fn();
      this.#counter.record(operation, 'ok');
      return out;
    } catch (err) {
      const verdict: Verdict = signal.aborted ? { outcome: 'aborted' } : this.#o.classify(err, operation);
      this.#counter.record(operation, verdict.outcome);
      if (verdict.outcome === 'throttled') this.#group(operation).bucket.drain();
      throw verdict.error ?? err;
    }
  }

  #group(operation: Op): { readonly bucket: TokenBucket; readonly slots: Slots } {
    const group = this.#o.groupOf(operation);
    const found = this.#groups.get(group);
    if (!found) throw new Error(`${this.#o.api}: no rate limit for ${operation} (group ${group})`);
    return found;
  }
}
