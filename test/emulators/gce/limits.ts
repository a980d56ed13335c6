// Per-project rate quotas and injected faults.
//
// Compute enforces rate quotas per project per minute and refills them at the
// start of the next synchronized interval (10:00:15 exhausted → 10:01:00 full),
// so these are fixed windows aligned to the clock, not token buckets. Writes
// (routes.insert / routes.delete: the "Queries" group) and reads (get, list,
// operation reads) count separately; the real API splits reads into more groups,
// each as large, so one read window is the stricter model.
import type { Clock } from '../../../src/util/time.ts';
import { ApiError } from './resources.ts';

export type CallKind = 'read' | 'write';

export interface RateLimitConfig {
  /** false: no rate limits at all. */
  readonly enabled: boolean;
  readonly readsPerMinute: number;
  readonly writesPerMinute: number;
  /** The "minute": 60 000 ms unless a test compresses time. */
  readonly windowMs: number;
}

/** reference/cloud-apis.md: order of 1,500 mutations/min and 1,500 reads/min per project. */
export const DOCUMENTED_RATE_LIMITS: RateLimitConfig = { enabled: true, readsPerMinute: 1500, writesPerMinute: 1500, windowMs: 60_000 };

export class RateWindows {
  config: RateLimitConfig;
  readonly #clock: Clock;
  readonly #used = new Map<string, { window: number; read: number; write: number }>();

  constructor(config: RateLimitConfig, clock: Clock) {
    this.config = config;
    this.#clock = clock;
  }

  /** Counts the call, or throws 403 rateLimitExceeded when this window's quota is spent. */
  admit(project: string, kind: CallKind): void {
    if (!this.config.enabled) return;
    const window = Math.floor(this.#clock.now() / this.config.windowMs);
    let used = this.#used.get(project);
    if (!used || used.window !== window) this.#used.set(project, (used = { window, read: 0, write: 0 }));
    const limit = kind === 'read' ? this.config.readsPerMinute : this.config.writesPerMinute;
    if (used[kind] >= limit) throw rateLimitExceeded(project, kind);
    used[kind]++;
  }

  reset(): void {
    this.#used.clear();
  }
}

export function rateLimitExceeded(project: string, kind: CallKind): ApiError {
  const metric = kind === 'write' ? 'Queries' : 'Read requests';
  return new ApiError(
    403, 'rateLimitExceeded',
    `Quota exceeded for quota metric '${metric}' and limit '${metric} per minute' of service 'compute.googleapis.com' for consumer 'project:${project}'.`,
    'usageLimits',
  );
}

export type Fault = 'throttle' | 'error500' | 'error503' | 'drop';

export interface FaultRequest {
  /** Added to every API call until changed. */
  readonly latencyMs?: number;
  /** The next calls answer 403 rateLimitExceeded (before server errors and drops). */
  readonly throttle?: number;
  /** Then the next calls answer 5xx. */
  readonly serverErrors?: number;
  readonly serverErrorStatus?: 500 | 503;
  /** Then the next calls lose their connection without an answer. */
  readonly drop?: number;
  /** The next operations end DONE with this error instead of succeeding. */
  readonly operationErrors?: readonly { code: string; message: string; httpStatus?: number; httpMessage?: string }[];
}

export class Faults {
  latencyMs = 0;
  readonly #queue: Fault[] = [];

  add(req: FaultRequest): void {
    if (req.latencyMs !== undefined) this.latencyMs = req.latencyMs;
    const push = (f: Fault, n = 0): void => void this.#queue.push(...Array.from({ length: n }, () => f));
    push('throttle', req.throttle);
    push(req.serverErrorStatus === 503 ? 'error503' : 'error500', req.serverErrors);
    push('drop', req.drop);
  }

  next(): Fault | undefined {
    return this.#queue.shift();
  }

  pending(): number {
    return this.#queue.length;
  }

  reset(): void {
    this.latencyMs = 0;
    this.#queue.length = 0;
  }
}

export function serverError(status: 500 | 503): ApiError {
  return status === 503
    ? new ApiError(503, 'backendError', 'The service is currently unavailable.')
    : new ApiError(500, 'backendError', 'Internal error. Please try again or contact Google Support.');
}
