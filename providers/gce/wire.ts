// What the provider sees of compute v1: plain records and typed errors, so that
// only api.ts knows the SDK's message classes and error shapes.
import { RetryableError } from '../../src/errors.ts';

export interface GceWarning {
  readonly code: string;
  readonly message: string;
}

export interface GceRoute {
  readonly name: string;
  readonly description?: string | undefined;
  /** Network URL, e.g. https://www.googleapis.com/compute/v1/projects/p/global/networks/n. */
  readonly network: string;
  readonly destRange: string;
  readonly priority?: number | undefined;
  /** Full instance URL as the API reads it back. */
  readonly nextHopInstance?: string | undefined;
  readonly nextHopIp?: string | undefined;
  readonly nextHopGateway?: string | undefined;
  readonly warnings: readonly GceWarning[];
}

export interface GceRouteInput {
  readonly name: string;
  readonly description: string;
  /** `projects/<p>/global/networks/<n>`. */
  readonly network: string;
  readonly destRange: string;
  readonly priority: number;
  /** `zones/<z>/instances/<n>`. */
  readonly nextHopInstance: string;
}

export interface GceOperation {
  readonly name: string;
  /** PENDING | RUNNING | DONE. */
  readonly status: string;
  readonly errors: readonly { readonly code: string; readonly message: string }[];
  readonly httpErrorStatusCode?: number | undefined;
  readonly httpErrorMessage?: string | undefined;
}

export interface GceInstance {
  readonly zone: string;
  readonly name: string;
  readonly status: string;
  readonly canIpForward: boolean;
  readonly nics: readonly { readonly network: string; readonly networkIP: string }[];
}

export interface GcePage<T> {
  readonly items: readonly T[];
  readonly nextPageToken?: string | undefined;
}

/** A definite answer from the API (4xx other than throttling): `status` is the HTTP status, `reason` the first error's reason. */
export class GceApiError extends Error {
  readonly status: number;
  readonly reason: string | undefined;
  constructor(status: number, reason: string | undefined, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'GceApiError';
    this.status = status;
    this.reason = reason;
  }
}

/** 403 rateLimitExceeded / 429: the project's per-minute rate quota is spent. */
export class GceThrottledError extends RetryableError {
  constructor(message: string, options?: ErrorOptions & { retryAfterMs?: number }) {
    super(message, options);
    this.name = 'GceThrottledError';
  }
}

/** A transient failure, retried: 5xx (server_error), 400 resourceNotReady (busy), unreachable (network) or past its deadline (timeout). */
export class GceTransientError extends RetryableError {
  readonly outcome: 'server_error' | 'busy' | 'network' | 'timeout';
  constructor(outcome: GceTransientError['outcome'], message: string, options?: ErrorOptions) {
    super(message, options);
    this.outcome = outcome;
  }
}

/** An operation that ended DONE with errors. */
export class GceOperationError extends Error {
  readonly codes: readonly string[];
  readonly httpStatus: number | undefined;
  constructor(message: string, codes: readonly string[], httpStatus: number | undefined) {
    super(message);
    this.name = 'GceOperationError';
    this.codes = codes;
    this.httpStatus = httpStatus;
  }
}

export const isNotFound = (err: unknown): boolean => err instanceof GceApiError && err.status === 404;
export const isAlreadyExists = (err: unknown): boolean =>
  err instanceof GceApiError && err.status === 409 && (err.reason === undefined || err.reason === 'alreadyExists');
