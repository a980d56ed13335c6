// The one fake `Clock` for tests (STYLE.md rule 2): time moves only when a test
// calls advance(), so a test can say *when* something happened, not just that it
// eventually did. It lives in src/ so colocated unit tests can use it without
// reaching into test/; production code never imports it.
import type { Clock } from './time.ts';

interface Sleeper {
  readonly at: number;
  /** Order of the sleep() call: sleepers due at the same time wake in call order. */
  readonly seq: number;
  readonly wake: () => void;
}

/** A manual clock: now() is fixed until advance(); sleep() waits for advance() to reach its due time. */
export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  readonly #sleepers: Sleeper[] = [];

  constructor(start = Date.UTC(2025, 0, 1, 10, 0, 0)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  /** Resolves when advance() reaches now + ms (at once when ms ≤ 0); rejects with the signal's reason on abort. */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason as Error);
        return;
      }
      if (!(ms > 0)) {
        resolve();
        return;
      }
      const onAbort = (): void => {
        this.#remove(sleeper);
        reject(signal?.reason as Error);
      };
      const sleeper: Sleeper = {
        at: this.#now + ms,
        seq: this.#seq++,
        wake: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      this.#sleepers.push(sleeper);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * Moves time forward by `ms`, waking due sleepers one at a time in due-time order:
   * now() reads each sleeper's due time when it wakes, and promise callbacks (and
   * sleeps they start, if due within the window) run before the next one wakes.
   */
  async advance(ms: number): Promise<void> {
    if (!(ms >= 0)) throw new RangeError(`advance: ms must be ≥ 0, got ${ms}`);
    const until = this.#now + ms;
    await settle();
    for (let next = this.#next(until); next; next = this.#next(until)) {
      this.#remove(next);
      this.#now = next.at;
      next.wake();
      await settle();
    }
    this.#now = until;
    await settle();
  }

  /** The due times of the sleeps now waiting, earliest first. */
  pending(): number[] {
    return this.#sleepers.map((s) => s.at).sort((a, b) => a - b);
  }

  #next(until: number): Sleeper | undefined {
    let best: Sleeper | undefined;
    for (const s of this.#sleepers) {
      if (s.at <= until && (!best || s.at < best.at || (s.at === best.at && s.seq < best.seq))) best = s;
    }
    return best;
  }

  #remove(sleeper: Sleeper): void {
    const i = this.#sleepers.indexOf(sleeper);
    if (i >= 0) this.#sleepers.splice(i, 1);
  }
}

/** Lets queued promise callbacks (and whatever they queue in turn) run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
