// Waiting for a global operation. globalOperations.wait answers at DONE or near
// its 2-minute deadline, and "in uncommon cases" after zero seconds, so it is
// called again until DONE: each poll at least pollIntervalMs after the previous
// answer (≤ 5 per second per operation), and never past the operation timeout.
import { QuotaExceededError } from '../../src/errors.ts';
import type { Clock } from '../../src/util/time.ts';
import type { GceApi } from './api.ts';
import type { Caller } from './caller.ts';
import { type GceOperation, GceOperationError } from './wire.ts';

export interface AwaitOptions {
  readonly api: GceApi;
  readonly caller: Caller;
  readonly clock: Clock;
  readonly pollIntervalMs: number;
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
}

export async function awaitOperation(first: GceOperation, what: string, o: AwaitOptions): Promise<GceOperation> {
  let op = first;
  const started = o.clock.now();
  let lastPoll = Number.NEGATIVE_INFINITY;
  while (op.status !== 'DONE') {
    const now = o.clock.now();
    if (now - started > o.timeoutMs) {
      throw new Error(`${what}: operation ${op.name} still ${op.status} after ${o.timeoutMs} ms`);
    }
    const pause = lastPoll + o.pollIntervalMs - now;
    if (pause > 0) await o.clock.sleep(pause, o.signal);
    const name = op.name;
    op = await o.caller.call('globalOperations.wait', o.signal, () => o.api.waitOperation(name, o.signal));
    // Paced from the answer, not the request: the next poll then reaches the
    // server at least pollIntervalMs after the previous one did, whatever the transit.
    lastPoll = o.clock.now();
  }
  return op;
}

/** Throws the typed error for an operation that ended DONE with errors: quota → QuotaExceededError. */
export function throwIfFailed(op: GceOperation, what: string): void {
  if (op.errors.length === 0) return;
  const codes = op.errors.map((e) => e.code);
  const detail = op.errors.map((e) => `${e.code}: ${e.message}`).join('; ');
  const message = `${what}: operation ${op.name} failed (${op.httpErrorStatusCode ?? '?'} ${op.httpErrorMessage ?? ''}): ${detail}`;
  if (codes.includes('QUOTA_EXCEEDED')) throw new QuotaExceededError(message, { cause: new GceOperationError(message, codes, op.httpErrorStatusCode) });
  throw new GceOperationError(message, codes, op.httpErrorStatusCode);
}
