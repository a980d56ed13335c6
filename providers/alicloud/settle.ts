// Waiting for asynchronous writes: an entry is Pending after a create and
// Deleting after a delete. Polls are spaced by pollIntervalMs (and the read
// bucket); after the first wait the first poll is put off by what the last
// wait of that kind took, so steady-state waits cost one or two reads.
import { RetryableError } from '../../src/errors.ts';
import type { Clock } from '../../src/util/time.ts';

export type SettleKind = 'create' | 'delete' | 'modify';

export class Settler {
  readonly #clock: Clock;
  readonly #intervalMs: number;
  readonly #timeoutMs: number;
  readonly #estimates = new Map<SettleKind, number>();

  constructor(o: { clock: Clock; pollIntervalMs: number; settleTimeoutMs: number }) {
    this.#clock = o.clock;
    this.#intervalMs = o.pollIntervalMs;
    this.#timeoutMs = o.settleTimeoutMs;
  }

  /** Looks until `done`; throws RetryableError after settleTimeoutMs (the write stands; a later pass sees it). */
  async until<T>(kind: SettleKind, signal: AbortSignal, look: () => Promise<T>, done: (t: T) => boolean, what: string): Promise<T> {
    const started = this.#clock.now();
    const estimate = this.#estimates.get(kind);
    if (estimate !== undefined && estimate > 2 * this.#intervalMs) await this.#clock.sleep(estimate - 2 * this.#intervalMs, signal);
    for (;;) {
      const seen = await look();
      if (done(seen)) {
        this.#learn(kind, this.#clock.now() - started);
        return seen;
      }
      if (this.#clock.now() - started >= this.#timeoutMs) throw new RetryableError(`${what}: not settled after ${this.#timeoutMs} ms`);
      await this.#clock.sleep(this.#intervalMs, signal);
    }
  }

  #learn(kind: SettleKind, tookMs: number): void {
    const old = this.#estimates.get(kind);
    this.#estimates.set(kind, old === undefined ? tookMs : (old + tookMs) / 2);
  }
}
