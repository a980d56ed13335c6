// Time is injected (STYLE.md rule 2): production uses the real clock, tests a fake one.

export interface Clock {
  now(): number;
  /** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason as Error);
        return;
      }
      const cancel = setLongTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = (): void => {
        cancel();
        reject(signal?.reason as Error);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

/** The largest delay one setTimeout honours; Node fires longer ones after 1 ms (TimeoutOverflowWarning). */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * setTimeout for any delay: longer than MAX_TIMEOUT_MS is chained in steps, so a
 * long sleep sleeps long and never fires at once. Negative or NaN delays count as 0,
 * Infinity never fires. Returns the cancel function. Every timer in src/ and
 * providers/ with a computed delay goes through here (or realClock.sleep).
 */
export function setLongTimeout(fn: () => void, ms: number, opts: { unref?: boolean } = {}): () => void {
  let timer: NodeJS.Timeout | undefined;
  const arm = (left: number): void => {
    const step = Math.min(left, MAX_TIMEOUT_MS);
    timer = setTimeout(() => (left > step ? arm(left - step) : fn()), step);
    if (opts.unref) timer.unref();
  };
  arm(Number.isNaN(ms) ? 0 : Math.max(0, ms));
  return () => clearTimeout(timer);
}

/** AbortSignal.timeout without the overflow: aborts with a TimeoutError DOMException after `ms`. */
export function timeoutSignal(ms: number): AbortSignal {
  const controller = new AbortController();
  setLongTimeout(() => controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')), ms, { unref: true });
  return controller.signal;
}

/** Exponential backoff with full jitter: a random delay in [base·2^attempt / 2, base·2^attempt], capped. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** attempt);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
