// One bound for the whole audit (`--timeout`): an input that does not answer in
// time is a reason the audit could not be done (exit 2), never a hang in cron or
// CI. Some clients ignore abort signals (etcd3 retries on its own), so each read
// is raced against the deadline rather than trusted to stop.
import { errorMessage } from '../errors.ts';

/** The audit could not be done; `source` names the input (`etcd`, `cloud`, `kernel`, `config`). */
export class CouldNotAuditError extends Error {
  readonly source: string;
  constructor(source: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CouldNotAuditError';
    this.source = source;
  }
}

export interface Deadline {
  readonly signal: AbortSignal;
  readonly timeoutMs: number;
  /**
   * Runs `read`; its failure, or the deadline passing first, becomes a CouldNotAuditError
   * whose message starts with `what` (e.g. `reading the leases from etcd http://…`).
   */
  read<T>(source: string, what: string, read: (signal: AbortSignal) => Promise<T>): Promise<T>;
}

export function deadline(timeoutMs: number, parent: AbortSignal): Deadline {
  const signal = AbortSignal.any([parent, AbortSignal.timeout(timeoutMs)]);
  return {
    signal,
    timeoutMs,
    read: async (source, what, read) => {
      const stop = Promise.withResolvers<never>();
      const onAbort = (): void => stop.reject(abortReason(source, what, signal, parent, timeoutMs));
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      try {
        return await Promise.race([read(signal), stop.promise]);
      } catch (err) {
        if (err instanceof CouldNotAuditError) throw err;
        if (signal.aborted) throw abortReason(source, what, signal, parent, timeoutMs);
        throw new CouldNotAuditError(source, `${what}: ${errorMessage(err)}`, { cause: err });
      } finally {
        signal.removeEventListener('abort', onAbort);
        stop.promise.catch(() => undefined);
      }
    },
  };
}

function abortReason(source: string, what: string, signal: AbortSignal, parent: AbortSignal, timeoutMs: number): CouldNotAuditError {
  if (parent.aborted) return new CouldNotAuditError(source, `${what}: interrupted (${errorMessage(parent.reason)})`);
  return new CouldNotAuditError(source, `${what}: no answer within ${formatMs(timeoutMs)} (--timeout)`, { cause: signal.reason });
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
