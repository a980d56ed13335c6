// Injected faults: the next N API requests answer 429 (with Retry-After) or a
// 5xx, every request waits `latencyMs` first. Admin calls are never affected.
import { ApiError, internalError, tooManyRequests } from './status.ts';

export interface FaultRequest {
  /** The next `count` requests get 429 TooManyRequests with Retry-After: retryAfterSeconds (default 1). */
  readonly throttle?: { readonly count: number; readonly retryAfterSeconds?: number };
  /** The next `count` requests get `code` (500 InternalError, 503 ServiceUnavailable, 504 Timeout). */
  readonly errors?: { readonly count: number; readonly code?: 500 | 503 | 504 };
  /** Added to every request from now on (0 turns it off). */
  readonly latencyMs?: number;
}

function serverError(code: number): ApiError {
  if (code === 503) return new ApiError({ code, reason: 'ServiceUnavailable', message: 'the server is currently unable to handle the request' });
  if (code === 504) return new ApiError({ code, reason: 'Timeout', message: 'the server was unable to return a response in the time allotted, but may still be processing the request' });
  return internalError('injected fault');
}

export class Faults {
  private throttleLeft = 0;
  private retryAfterSeconds = 1;
  private errorsLeft = 0;
  private errorCode = 500;
  latencyMs = 0;

  add(f: FaultRequest): void {
    if (f.throttle) {
      this.throttleLeft += f.throttle.count;
      this.retryAfterSeconds = f.throttle.retryAfterSeconds ?? 1;
    }
    if (f.errors) {
      this.errorsLeft += f.errors.count;
      this.errorCode = f.errors.code ?? 500;
    }
    if (f.latencyMs !== undefined) this.latencyMs = f.latencyMs;
  }

  /** The error the next request must get, if any (consumes one). */
  take(): ApiError | undefined {
    if (this.throttleLeft > 0) {
      this.throttleLeft -= 1;
      return tooManyRequests(this.retryAfterSeconds);
    }
    if (this.errorsLeft > 0) {
      this.errorsLeft -= 1;
      return serverError(this.errorCode);
    }
    return undefined;
  }

  reset(): void {
    this.throttleLeft = 0;
    this.errorsLeft = 0;
    this.latencyMs = 0;
  }
}
