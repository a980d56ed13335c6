// Every compute call goes through the shared paced caller (providers/shared/paced-caller.ts):
// a client-side token bucket per quota group (reads, writes) sized below the
// project's per-minute limits, retries of transient failures with jittered
// backoff, and a count of every attempt by operation and Outcome. A throttled
// answer empties the bucket and waits for the next quota window, since GCE
// refills rate quotas on the minute, not gradually.
import { RetryableError } from '../../src/errors.ts';
import type { Logger } from '../../src/observe/log.ts';
import type { Clock } from '../../src/util/time.ts';
import type { Verdict } from '../shared/outcomes.ts';
import { type BucketSpec, PacedCaller } from '../shared/paced-caller.ts';
import type { RetryOptions } from '../shared/retry.ts';
import { GceApiError, GceThrottledError, GceTransientError } from './wire.ts';

export type GceOperation =
  | 'networks.get' | 'projects.get' | 'routes.get' | 'routes.list' | 'routes.insert' | 'routes.delete'
  | 'instances.aggregatedList' | 'globalOperations.wait';

export type CallGroup = 'read' | 'write';

export interface CallerOptions {
  readonly buckets: Readonly<Record<CallGroup, BucketSpec>>;
  /** The quota window: a throttled call waits for the next one. */
  readonly windowMs: number;
  readonly retry: Pick<RetryOptions, 'attempts' | 'baseMs' | 'maxMs'>;
  readonly clock: Clock;
  readonly logger: Logger;
}

export type Caller = PacedCaller<GceOperation, CallGroup>;

export function createCaller(o: CallerOptions): Caller {
  const untilNextWindow = (): number => o.windowMs - (o.clock.now() % o.windowMs);
  return new PacedCaller({ api: 'compute', groupOf, classify: (err) => classify(err, untilNextWindow), ...o });
}

/** Inserts and deletes spend the project's write quota; everything else its read quota. */
export function groupOf(operation: GceOperation): CallGroup {
  return operation === 'routes.insert' || operation === 'routes.delete' ? 'write' : 'read';
}

/** Throttled calls are retried at the next quota window; GceTransientErrors as they come; GceApiErrors are answers. */
export function classify(err: unknown, untilNextWindow: () => number): Verdict {
  if (err instanceof GceThrottledError) {
    return { outcome: 'throttled', error: new GceThrottledError(err.message, { cause: err, retryAfterMs: untilNextWindow() }) };
  }
  if (err instanceof GceTransientError) return { outcome: err.outcome };
  if (err instanceof RetryableError) return { outcome: 'server_error' };
  if (!(err instanceof GceApiError)) return { outcome: 'other' };
  if (err.status === 404) return { outcome: 'not_found' };
  if (err.status === 409 || err.status === 412) return { outcome: 'conflict' };
  if (err.status === 401 || err.status === 403) return { outcome: 'denied' };
  if (err.status === 400) return { outcome: 'invalid' };
  return { outcome: 'other' };
}
