// Polls until a probe answers (anything but undefined/false), or fails naming what it waited for.

export interface WaitOptions {
  /** Default 30 s. */
  readonly timeoutMs?: number;
  /** Time between probes; default 100 ms. */
  readonly everyMs?: number;
  /** Appended to the timeout error (e.g. a process's output). */
  readonly details?: () => string;
  /** Ends the wait at once with the signal's reason (e.g. the process being waited on exited). */
  readonly signal?: AbortSignal;
}

/**
 * Polls `probe` until it returns something other than undefined/false; bounded in
 * time. A probe that throws counts as "not yet" (its last error is reported).
 * For real processes only: code that takes a `Clock` is tested with FakeClock
 * (src/util/fake-clock.ts), which says when, not just whether.
 */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, opts: number | WaitOptions = {}): Promise<T> {
  const o = typeof opts === 'number' ? { timeoutMs: opts } : opts;
  const timeoutMs = o.timeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  let last: Error | undefined;
  for (;;) {
    o.signal?.throwIfAborted();
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err instanceof Error ? err : new Error(String(err));
    }
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, o.everyMs ?? 100));
  }
  const why = last ? ` (last error: ${last.message})` : '';
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}${o.details ? `\n${o.details()}` : ''}`);
}
