// For each cloud's caller.test.ts: one table of errors → Outcome, and whether the
// caller retries it (the verdict's error, else the original, is a RetryableError).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RetryableError } from '../../src/errors.ts';
import type { Verdict } from './outcomes.ts';

export interface OutcomeCase {
  readonly description: string;
  readonly err: unknown;
  readonly outcome: Verdict['outcome'];
  readonly retried: boolean;
}

export function outcomeCases(cases: readonly OutcomeCase[], classify: (err: unknown) => Verdict): void {
  for (const c of cases) {
    test(c.description, () => {
      const v = classify(c.err);
      assert.equal(v.outcome, c.outcome);
      assert.equal((v.error ?? c.err) instanceof RetryableError, c.retried, c.retried ? 'retried' : 'not retried');
    });
  }
}
