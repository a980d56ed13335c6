// Every EC2 call goes through here: a count by operation and result, retries of
// throttling, 5xx and dropped connections, a bound on calls in flight, and the
// client-side token buckets, which api.ts awaits right before each attempt is
// signed and sent (beforeSend).
//
// Why both a bound and a late token: a request leaves some time after its token
// was taken. If that delay shrinks from one request to the next (a burst of 48
// SDK pipelines advancing in lockstep on one event loop, then single calls that
// go out at once), EC2 sees calls closer together than the bucket spaced them.
// Taking the token just before signing, with few pipelines running, keeps the
// delay short and even.
//
// A throttling answer empties the local bucket: EC2's bucket is empty too (another
// client of the account used it), so waiting for refill is right.
import { RetryableError } from '../../src/errors.ts';
import type { Logger } from '../../src/observe/log.ts';
import type { CallCounter } from '../shared/calls.ts';
import { type RetryOptions, withRetry } from '../shared/retry.ts';
import type { TokenBucket } from '../shared/token-bucket.ts';
import { Ec2ApiError, type Ec2Operation } from './api.ts';

export type CallClass = 'mutating' | 'describe';

export interface GateParts {
  readonly counter: CallCounter;
  readonly buckets: Readonly<Record<CallClass, TokenBucket>>;
  /** Calls in flight per class (each attempt holds a slot; backoff waits do not). */
  readonly maxInFlight: number;
  readonly retry: RetryOptions;
  readonly logger: Logger;
}

/** EC2 throttles Describe* in one bucket and route / attribute changes in another. */
export function classOf(operation: Ec2Operation): CallClass {
  return operation.startsWith('Describe') ? 'describe' : 'mutating';
}

export class ApiGate {
  readonly #p: GateParts;
  readonly #slots: Readonly<Record<CallClass, Slots>>;

  constructor(parts: GateParts) {
    this.#p = parts;
    this.#slots = { mutating: new Slots(parts.maxInFlight), describe: new Slots(parts.maxInFlight) };
  }

  /** For api.ts: waits for a token of the operation's class. */
  readonly beforeSend = (operation: Ec2Operation, signal: AbortSignal): Promise<void> => this.#p.buckets[classOf(operation)].take(signal);

  /** Runs `fn` (one EC2 call) with counting and retries; non-transient Ec2ApiErrors are rethrown as they are. */
  async call<T>(operation: Ec2Operation, signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
    const slots = this.#slots[classOf(operation)];
    return withRetry(signal, async () => {
      await slots.acquire(signal);
      try {
        const out = await fn();
        this.#p.counter.record(operation, 'ok');
        return out;
      } catch (err) {
        if (!(err instanceof Ec2ApiError)) throw err;
        if (err.kind === 'throttled') {
          this.#p.counter.record(operation, 'throttled');
          this.#p.buckets[classOf(operation)].drain();
          throw new RetryableError(`EC2 ${operation} throttled`, { cause: err });
        }
        this.#p.counter.record(operation, `error:${err.code}`);
        if (err.kind === 'client') throw err;
        throw new RetryableError(`EC2 ${operation} failed: ${err.code}`, { cause: err });
      } finally {
        slots.release();
      }
    }, {
      ...this.#p.retry,
      onRetry: (err, attempt, delayMs) => this.#p.logger.debug({ operation, attempt, delayMs, err: err.message }, 'retrying EC2 call'),
    });
  }
}

/** A counting semaphore; waiters are served in order. */
class Slots {
  #free: number;
  readonly #waiting: (() => void)[] = [];

  constructor(size: number) {
    this.#free = size;
  }

  async acquire(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    if (this.#free > 0) {
      this.#free--;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const waiter = (): void => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = (): void => {
        this.#waiting.splice(this.#waiting.indexOf(waiter), 1);
        reject(signal.reason as Error);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(waiter);
    });
  }

  release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#free++;
  }
}
