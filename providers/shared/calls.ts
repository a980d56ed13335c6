import type { ApiCallCounts } from '../route-table.ts';

/** Counts API calls by operation and result; providers expose `counts()` as `calls()`. */
export class CallCounter {
  readonly #counts = new Map<string, Map<string, number>>();

  record(operation: string, result: string): void {
    let byResult = this.#counts.get(operation);
    if (!byResult) this.#counts.set(operation, (byResult = new Map<string, number>()));
    byResult.set(result, (byResult.get(result) ?? 0) + 1);
  }

  counts(): ApiCallCounts {
    const out: Record<string, Record<string, number>> = {};
    for (const [op, byResult] of this.#counts) out[op] = Object.fromEntries(byResult);
    return out;
  }

  total(result?: string): number {
    let n = 0;
    for (const byResult of this.#counts.values()) {
      for (const [r, c] of byResult) if (result === undefined || r === result) n += c;
    }
    return n;
  }
}
