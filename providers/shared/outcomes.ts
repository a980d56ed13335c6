// The results every cloud's API calls are counted under (the `result` label of
// tartan_cloud_api_calls_total), so that one dashboard compares clouds. Each
// cloud's caller.ts maps its own error codes onto these; nothing else is counted.

export const OUTCOMES = [
  /** The call succeeded. */
  'ok',
  /** The cloud's rate limit answered (EC2 RequestLimitExceeded, GCE rateLimitExceeded / 429, Alibaba Throttling). */
  'throttled',
  /** A 5xx: the cloud failed; retried. */
  'server_error',
  /** The connection failed or dropped before an answer. */
  'network',
  /** No answer in time (client or server deadline). */
  'timeout',
  /** Another change in flight refused this one for now (Alibaba TaskConflict, …); retried. */
  'busy',
  'not_found',
  /** The thing exists already, or differently (EC2 RouteAlreadyExists, GCE 409, Alibaba duplicate entry). */
  'conflict',
  /** A quota or table limit (EC2 RouteLimitExceeded, Alibaba QuotaExceeded). */
  'quota',
  /** The request was refused as malformed (4xx Invalid…). */
  'invalid',
  /** Credentials or permissions (401, 403 other than throttling, UnauthorizedOperation). */
  'denied',
  /** The caller gave up (its AbortSignal fired). */
  'aborted',
  'other',
] as const;

export type Outcome = (typeof OUTCOMES)[number];

/** How a cloud reads one failed attempt: what to count, and what to throw (a RetryableError is retried). */
export interface Verdict {
  readonly outcome: Exclude<Outcome, 'ok'>;
  /** Thrown in place of the original error; the original when absent. */
  readonly error?: unknown;
}
