// A clock that moves only when a test says so: operation progress, quota windows
// and wait deadlines become deterministic.
import type { Clock } from '../../../src/util/time.ts';

export class ManualClock implements Clock {
  #now: number;
  readonly #sleepers: { at: number; resolve: () => void }[] = [];

  constructor(start = Date.UTC(2025, 0, 1, 10, 0, 0)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason as Error);
      const entry = { at: this.#now + ms, resolve };
      this.#sleepers.push(entry);
      signal?.addEventListener('abort', () => {
        this.#sleepers.splice(this.#sleepers.indexOf(entry), 1);
        reject(signal.reason as Error);
      }, { once: true });
    });
  }

  /** How many sleeps are waiting (a test advances only once the server is asleep). */
  sleeping(): number {
    return this.#sleepers.length;
  }

  advance(ms: number): void {
    this.#now += ms;
    for (const s of this.#sleepers.filter((x) => x.at <= this.#now)) {
      this.#sleepers.splice(this.#sleepers.indexOf(s), 1);
      s.resolve();
    }
  }
}

/** Polls `cond` every few milliseconds of real time, for at most `timeoutMs`. */
export async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 2));
  }
}
