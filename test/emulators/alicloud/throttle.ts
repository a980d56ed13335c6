// Server-side flow control: one token bucket per (API, region), as Alibaba
// meters each API per region per account. Limits are account settings in the
// real cloud, so every number here is a knob.

export interface RateLimit {
  /** Burst: requests allowed at once. */
  readonly capacity: number;
  readonly refillPerSecond: number;
}

/** Actions that change route tables are metered tighter than reads (assumed defaults; knobs). */
export const WRITE_ACTIONS: ReadonlySet<string> = new Set([
  'CreateRouteEntry', 'CreateRouteEntries', 'DeleteRouteEntry', 'DeleteRouteEntries', 'ModifyRouteEntry',
]);

export const DEFAULT_READ_LIMIT: RateLimit = { capacity: 20, refillPerSecond: 20 };
export const DEFAULT_WRITE_LIMIT: RateLimit = { capacity: 10, refillPerSecond: 10 };

export interface FlowSettings {
  readonly enabled?: boolean;
  readonly read?: RateLimit;
  readonly write?: RateLimit;
  readonly perAction?: Record<string, RateLimit>;
}

export class FlowControl {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  readonly #initial: FlowSettings;
  #limits: Record<string, RateLimit> = {};
  #read: RateLimit = DEFAULT_READ_LIMIT;
  #write: RateLimit = DEFAULT_WRITE_LIMIT;
  #enabled = true;

  constructor(initial: FlowSettings = {}) {
    this.#initial = initial;
    this.configure(initial);
  }

  configure(opts: FlowSettings): void {
    if (opts.enabled !== undefined) this.#enabled = opts.enabled;
    if (opts.read) this.#read = opts.read;
    if (opts.write) this.#write = opts.write;
    if (opts.perAction) this.#limits = { ...this.#limits, ...opts.perAction };
    this.#buckets.clear();
  }

  limitFor(action: string): RateLimit {
    return this.#limits[action] ?? (WRITE_ACTIONS.has(action) ? this.#write : this.#read);
  }

  /** Takes one token for (action, region); false when the caller is over its limit. */
  admit(action: string, region: string, now: number): boolean {
    if (!this.#enabled) return true;
    const limit = this.limitFor(action);
    const key = `${action}|${region}`;
    const b = this.#buckets.get(key) ?? { tokens: limit.capacity, at: now };
    b.tokens = Math.min(limit.capacity, b.tokens + ((now - b.at) / 1000) * limit.refillPerSecond);
    b.at = now;
    this.#buckets.set(key, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** Back to the limits given at start, with full buckets. */
  reset(): void {
    this.#limits = {};
    this.#read = DEFAULT_READ_LIMIT;
    this.#write = DEFAULT_WRITE_LIMIT;
    this.#enabled = true;
    this.configure(this.#initial);
  }
}
