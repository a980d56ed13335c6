// EC2's request throttling (token buckets per account and action class) and the
// faults tests inject (latency, 5xx, throttling, dropped connections).
import type { Clock } from '../../../src/util/time.ts';

export interface BucketSpec {
  readonly capacity: number;
  readonly refillPerSecond: number;
}

export interface RateLimits {
  readonly enabled: boolean;
  /** CreateRoute, DeleteRoute, ReplaceRoute, ModifyInstanceAttribute, ModifyNetworkInterfaceAttribute. */
  readonly mutating: BucketSpec;
  /** Describe calls with a filter, ids or paging. */
  readonly describe: BucketSpec;
  /** Describe calls with neither filter nor paging. */
  readonly unfilteredDescribe: BucketSpec;
}

/** The EC2 developer guide's request-throttling numbers (per account, per Region). */
export const DOCUMENTED_LIMITS: RateLimits = {
  enabled: true,
  mutating: { capacity: 50, refillPerSecond: 5 },
  describe: { capacity: 100, refillPerSecond: 20 },
  unfilteredDescribe: { capacity: 50, refillPerSecond: 10 },
};

export type ActionClass = 'mutating' | 'describe' | 'unfilteredDescribe';

export const MUTATING_ACTIONS: ReadonlySet<string> = new Set(['CreateRoute', 'DeleteRoute', 'ReplaceRoute', 'ModifyInstanceAttribute', 'ModifyNetworkInterfaceAttribute']);

/** Token buckets keyed by access key id and action class; a bucket starts full. */
export class AccountLimiter {
  #limits: RateLimits;
  readonly #clock: Clock;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(limits: RateLimits, clock: Clock) {
    this.#limits = limits;
    this.#clock = clock;
  }

  get limits(): RateLimits {
    return this.#limits;
  }

  set(limits: Partial<RateLimits>): void {
    this.#limits = { ...this.#limits, ...limits };
    this.#buckets.clear();
  }

  /** Takes one token; false when the bucket is empty (the call is throttled). */
  tryTake(account: string, cls: ActionClass): boolean {
    if (!this.#limits.enabled) return true;
    const spec = this.#limits[cls];
    const key = `${account}\u0000${cls}`;
    const now = this.#clock.now();
    const b = this.#buckets.get(key) ?? { tokens: spec.capacity, at: now };
    b.tokens = Math.min(spec.capacity, b.tokens + ((now - b.at) / 1000) * spec.refillPerSecond);
    b.at = now;
    this.#buckets.set(key, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}

export type FaultKind = 'throttle' | 'internal' | 'unavailable' | 'drop' | 'dropAfter';

export interface InjectFaults {
  /** The next N calls are throttled (503 RequestLimitExceeded). */
  readonly throttle?: number;
  /** Then N calls fail with 500 InternalError. */
  readonly serverErrors?: number;
  /** Then N calls fail with 503 Unavailable. */
  readonly unavailable?: number;
  /** Then N connections are destroyed without an answer. */
  readonly drop?: number;
  /** Dropped connections are cut after the action took effect (the client cannot know). */
  readonly dropAfterProcessing?: boolean;
  /** Only calls of these actions consume the faults; all calls when absent. */
  readonly actions?: readonly string[];
}

export interface StandingFaults {
  readonly latencyMs: number;
  /** Share of calls (0–1) answered with a 500 or 503 at random. */
  readonly serverErrorRate: number;
}

export class FaultPlan {
  #queue: { kind: FaultKind; actions?: readonly string[] | undefined }[] = [];
  standing: StandingFaults = { latencyMs: 0, serverErrorRate: 0 };

  inject(f: InjectFaults): void {
    const add = (kind: FaultKind, n = 0): void => {
      for (let i = 0; i < n; i++) this.#queue.push({ kind, actions: f.actions });
    };
    add('throttle', f.throttle);
    add('internal', f.serverErrors);
    add('unavailable', f.unavailable);
    add(f.dropAfterProcessing ? 'dropAfter' : 'drop', f.drop);
  }

  /** The next queued fault meant for this action, removed from the queue. */
  take(action: string): FaultKind | undefined {
    const i = this.#queue.findIndex((f) => f.actions === undefined || f.actions.includes(action));
    if (i < 0) return undefined;
    return this.#queue.splice(i, 1)[0]!.kind;
  }

  pending(): number {
    return this.#queue.length;
  }

  clear(): void {
    this.#queue = [];
    this.standing = { latencyMs: 0, serverErrorRate: 0 };
  }
}
