// One row of `npm run bench`. Every bench module under test/bench/*.bench.ts
// default-exports `(opts: BenchOptions) => Promise<BenchRow[]>`.

export interface BenchRow {
  /** The bench module, e.g. `leases`, `kernel`, `provider-aws`. */
  readonly suite: string;
  /** What was measured, e.g. `1000 concurrent acquisitions: wall time`. */
  readonly metric: string;
  readonly value: number;
  readonly unit: string;
  /** The target from the issue, as text (e.g. `≤ 1.5`), when there is one. */
  readonly target?: string | undefined;
  /** true/false when a target exists and was met / missed. */
  readonly met?: boolean | undefined;
  readonly note?: string | undefined;
}

export interface BenchOptions {
  /** Smaller sizes for a quick look (`npm run bench -- --quick`). */
  readonly quick: boolean;
}

export type BenchModule = (opts: BenchOptions) => Promise<BenchRow[]>;
