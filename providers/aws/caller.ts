// Every EC2 call goes through the shared paced caller (providers/shared/paced-caller.ts):
// a count by operation and Outcome, retries of throttling, 5xx and dropped
// connections, a bound on calls in flight, and the client-side token buckets,
// which api.ts awaits right before each attempt is signed and sent (beforeSend).
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
import type { Clock } from '../../src/util/time.ts';
import type { Verdict } from '../shared/outcomes.ts';
import { type BucketSpec, PacedCaller } from '../shared/paced-caller.ts';
import type { RetryOptions } from '../shared/retry.ts';
import { Ec2ApiError, type Ec2Operation } from './api.ts';

export type CallGroup = 'mutating' | 'describe';

export interface CallerOptions {
  readonly buckets: Readonly<Record<CallGroup, BucketSpec>>;
  /** Calls in flight per group (each attempt holds a slot; backoff waits do not). */
  readonly maxInFlight: number;
  readonly retry: Pick<RetryOptions, 'attempts' | 'baseMs' | 'maxMs' | 'random'>;
  readonly clock: Clock;
  readonly logger: Logger;
}

export type Caller = PacedCaller<Ec2Operation, CallGroup>;

/** EC2's paced caller; api.ts must be given its `beforeSend`. */
export function createCaller(o: CallerOptions): Caller {
  return new PacedCaller({ api: 'EC2', groupOf, classify, tokenAt: 'send', ...o });
}

/** EC2 throttles Describe* in one bucket and route / attribute changes in another. */
export function groupOf(operation: Ec2Operation): CallGroup {
  return operation.startsWith('Describe') ? 'describe' : 'mutating';
}

/** Throttling, 5xx and dropped connections are retried; other Ec2ApiErrors are thrown as they are. */
export function classify(err: unknown, operation: Ec2Operation): Verdict {
  if (!(err instanceof Ec2ApiError)) return { outcome: 'other' };
  if (err.kind === 'throttled') return { outcome: 'throttled', error: new RetryableError(`EC2 ${operation} throttled`, { cause: err }) };
  if (err.kind !== 'client') return { outcome: transientOutcome(err), error: new RetryableError(`EC2 ${operation} failed: ${err.code}`, { cause: err }) };
  return { outcome: clientOutcome(err) };
}

function transientOutcome(err: Ec2ApiError): Verdict['outcome'] {
  if (err.kind === 'server') return 'server_error';
  return err.code === 'TimeoutError' || err.code === 'ETIMEDOUT' ? 'timeout' : 'network';
}

function clientOutcome({ code, status }: Ec2ApiError): Verdict['outcome'] {
  if (code.endsWith('.NotFound')) return 'not_found';
  if (code === 'RouteAlreadyExists' || code.endsWith('.Duplicate')) return 'conflict';
  if (code.endsWith('LimitExceeded')) return 'quota';
  if (code === 'UnauthorizedOperation' || code === 'AuthFailure' || status === 401 || status === 403) return 'denied';
  if (code.startsWith('Invalid') || code.startsWith('MissingParameter') || code === 'ValidationError') return 'invalid';
  return 'other';
}
