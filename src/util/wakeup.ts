// Events only wake a loop; the loop recomputes from full state (level-triggered).
// Many wakes before the loop looks collapse into one.
import { type Clock, realClock } from './time.ts';

export class Wakeup {
  #pending = false;
  #resolve: (() => void) | undefined;

  wake(): void {
    this.#pending = true;
    this.#resolve?.();
  }

  /**
   * Waits until woken or `timeoutMs` passes; then waits `debounceMs` more so a
   * burst of events becomes one pass (a function is asked at wake time). Resolves
   * 'woken' or 'timeout'; rejects on abort.
   */
  async wait(signal: AbortSignal, timeoutMs: number, debounceMs: number | (() => number) = 0, clock: Clock = realClock): Promise<'woken' | 'timeout'> {
    signal.throwIfAborted();
    if (!this.#pending) {
      const woken = new Promise<void>((resolve) => (this.#resolve = resolve));
      const ac = new AbortController();
      const onAbort = (): void => ac.abort(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        await Promise.race([woken, clock.sleep(timeoutMs, ac.signal)]);
      } finally {
        ac.abort();
        signal.removeEventListener('abort', onAbort);
        this.#resolve = undefined;
      }
      signal.throwIfAborted();
    }
    const result = this.#pending ? 'woken' : 'timeout';
    const debounce = typeof debounceMs === 'function' ? debounceMs() : debounceMs;
    if (result === 'woken' && debounce > 0) await clock.sleep(debounce, signal);
    this.#pending = false;
    return result;
  }
}
