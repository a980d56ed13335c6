// Every VPC API call goes through the shared paced caller (providers/shared/paced-caller.ts):
// a token bucket per API (below the account's flow control), jittered retries of
// transient failures, and a count of every attempt by API and Outcome. Writes the
// VPC refuses because another change is unsettled (busy) are retried too.
import { RetryableError } from '../../src/errors.ts';
import type { Logger } from '../../src/observe/log.ts';
import type { Clock } from '../../src/util/time.ts';
import type { Verdict } from '../shared/outcomes.ts';
import { PacedCaller } from '../shared/paced-caller.ts';
import type { RetryOptions } from '../shared/retry.ts';
import { AlicloudApiError, TransientApiError } from './api.ts';
import type { RateLimit, VpcAction } from './options.ts';
import { BUSY_CODES, DUPLICATE_CODES, NEXT_HOP_NOT_FOUND_CODES, NOT_FOUND_ENTRY_CODES, isQuotaCode } from './ownership.ts';

export interface CallerOptions {
  readonly rateLimits: Readonly<Record<VpcAction, RateLimit>>;
  readonly retry: Pick<RetryOptions, 'attempts' | 'baseMs' | 'maxMs'>;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** Each API has its own flow-control limit: one bucket per action. */
export type Caller = PacedCaller<VpcAction, VpcAction>;

export function createCaller(o: CallerOptions): Caller {
  return new PacedCaller({ api: 'VPC', groupOf: (action) => action, buckets: o.rateLimits, classify, retry: o.retry, clock: o.clock, logger: o.logger });
}

const TIMEOUT_CODES: ReadonlySet<string> = new Set(['ReadTimeout', 'ConnectTimeout', 'ETIMEDOUT']);

/** Throttling, 5xx, dropped connections and busy codes are retried; other API codes are answers. */
export function classify(err: unknown, action: VpcAction): Verdict {
  if (err instanceof TransientApiError) {
    return { outcome: err.kind === 'network' && TIMEOUT_CODES.has(err.code) ? 'timeout' : err.kind };
  }
  if (!(err instanceof AlicloudApiError)) return { outcome: 'other' };
  if (BUSY_CODES.has(err.code)) {
    return { outcome: 'busy', error: new RetryableError(`${action}: the VPC has an unsettled change (${err.code})`, { cause: err }) };
  }
  return { outcome: answerOutcome(err) };
}

function answerOutcome({ code, status }: AlicloudApiError): Verdict['outcome'] {
  if (code.endsWith('.NotFound') || NOT_FOUND_ENTRY_CODES.has(code) || NEXT_HOP_NOT_FOUND_CODES.has(code)) return 'not_found';
  if (DUPLICATE_CODES.has(code)) return 'conflict';
  if (isQuotaCode(code)) return 'quota';
  if (status === 401 || status === 403 || code.startsWith('Forbidden') || code.startsWith('InvalidAccessKeyId')) return 'denied';
  if (code.startsWith('Invalid') || code.startsWith('MissingParameter') || status === 400) return 'invalid';
  return 'other';
}
