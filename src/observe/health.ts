// What /healthz and /readyz answer, for both daemons, in one place (DESIGN invariant 9).
//
// Liveness: every watched loop ticked recently. A loop that has not ticked for
// 3 × its period + its deadline is stuck (a hung call, a lost promise): /healthz
// answers 503 so the supervisor restarts the process. Nothing else fails liveness:
// a cloud answering 500, etcd gone or a peer the kernel refuses are the world's
// faults, and a restart would not fix them.
//
// Readiness: the last pass (controller) or sync (agent) succeeded within its
// period + deadline, and no one set a not-ready reason (waiting for etcd, lease
// taken by another host, no managed route table, …). Details (kernel changes
// refused) are reported in the body without failing readiness.
import { type Clock, realClock } from '../util/time.ts';

export interface HealthStatus {
  readonly status: number;
  readonly body: string;
}

interface Loop {
  readonly limitMs: number;
  lastTick: number;
}

export interface HealthOptions {
  readonly clock?: Clock | undefined;
}

export class Health {
  readonly #clock: Clock;
  readonly #loops = new Map<string, Loop>();
  readonly #reasons = new Map<string, string>();
  readonly #details = new Map<string, string>();
  #work: { readonly name: string; readonly freshMs: number } | undefined;
  #lastSuccess: number | undefined;
  #lastFailure: string | undefined;

  constructor(opts: HealthOptions = {}) {
    this.#clock = opts.clock ?? realClock;
  }

  /** Watches a loop that ticks at least every `periodMs`, each turn taking up to `deadlineMs`. */
  watch(loop: string, o: { periodMs: number; deadlineMs: number }): void {
    this.#loops.set(loop, { limitMs: 3 * o.periodMs + o.deadlineMs, lastTick: this.#clock.now() });
  }

  unwatch(loop: string): void {
    this.#loops.delete(loop);
  }

  tick(loop: string): void {
    const l = this.#loops.get(loop);
    if (l) l.lastTick = this.#clock.now();
  }

  /** Readiness follows the work named here (`pass`, `sync`): it must succeed every `periodMs + deadlineMs`. */
  expect(name: string, o: { periodMs: number; deadlineMs: number }): void {
    this.#work = { name, freshMs: o.periodMs + o.deadlineMs };
  }

  /** No work expected (a standby controller): ready as long as no reason says otherwise. */
  expectNothing(): void {
    this.#work = undefined;
    this.#lastSuccess = undefined;
    this.#lastFailure = undefined;
  }

  succeeded(): void {
    this.#lastSuccess = this.#clock.now();
    this.#lastFailure = undefined;
  }

  failed(reason: string): void {
    this.#lastFailure = reason;
  }

  /** A not-ready reason under `key`; undefined clears it. */
  setReason(key: string, reason: string | undefined): void {
    if (reason === undefined) this.#reasons.delete(key);
    else this.#reasons.set(key, reason);
  }

  /** A detail reported in /readyz's body that does not fail readiness; undefined clears it. */
  setDetail(key: string, detail: string | undefined): void {
    if (detail === undefined) this.#details.delete(key);
    else this.#details.set(key, detail);
  }

  liveness(state: string): HealthStatus {
    const now = this.#clock.now();
    const stuck = [...this.#loops].filter(([, l]) => now - l.lastTick > l.limitMs).map(([name, l]) => `${name} loop has not turned for ${seconds(now - l.lastTick)} (limit ${seconds(l.limitMs)})`);
    return stuck.length > 0 ? text(false, stuck.join('; ')) : text(true, state);
  }

  readiness(state: string): HealthStatus {
    const problems = [...this.#reasons.values()];
    const work = this.#work;
    if (work) {
      const now = this.#clock.now();
      if (this.#lastSuccess === undefined) problems.push(this.#lastFailure ? `no ${work.name} has succeeded yet: ${this.#lastFailure}` : `no ${work.name} has succeeded yet`);
      else if (now - this.#lastSuccess > work.freshMs) {
        problems.push(`last successful ${work.name} ${seconds(now - this.#lastSuccess)} ago (limit ${seconds(work.freshMs)})${this.#lastFailure ? `: ${this.#lastFailure}` : ''}`);
      }
    }
    const details = [...this.#details.values()];
    const why = [problems.length > 0 ? problems.join('; ') : state, ...details].join('; ');
    return text(problems.length === 0, why);
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)}s`;
}

function text(ok: boolean, why: string): HealthStatus {
  return { status: ok ? 200 : 503, body: `${ok ? 'ok' : 'not ok'}: ${why}\n` };
}
