// Keeps the ownership ledger in step with what the controller does: what it found
// (adopted routes, entries whose route is gone), what it is about to do (an intent
// before each create or replace), and what the cloud confirmed (creates and
// replaces done; deletions done — only then is an entry forgotten).
import { type LedgerEntry, type OwnershipLedger, ledgerKey } from '../lease/ledger.ts';
import { type Clock, realClock } from '../util/time.ts';
import type { ActionResult } from './act.ts';
import type { Ownership } from './ownership.ts';
import type { RoutePlan } from './planner.ts';

export class LedgerKeeper {
  readonly #ledger: OwnershipLedger;
  readonly #clock: Clock;

  constructor(opts: { ledger: OwnershipLedger; clock?: Clock | undefined }) {
    this.#ledger = opts.ledger;
    this.#clock = opts.clock ?? realClock;
  }

  async list(signal: AbortSignal): Promise<ReadonlyMap<string, LedgerEntry>> {
    return await this.#ledger.listLedger(signal);
  }

  now(): string {
    return new Date(this.#clock.now()).toISOString();
  }

  /** Adoptions, intents for every create and replace, and entries whose route is gone (unless re-created now). */
  async beforeActing(ownership: Ownership, plan: RoutePlan, signal: AbortSignal): Promise<void> {
    const time = this.now();
    const intents: LedgerEntry[] = [];
    for (const a of plan.actions) {
      if (a.op !== 'delete') intents.push({ table: a.table, destination: a.destination, nextHop: a.nextHop, state: 'intent', time });
    }
    const written = new Set(intents.map((e) => ledgerKey(e.table, e.destination)));
    const gone = ownership.gone.filter((k) => !written.has(k));
    const puts = [...ownership.adopt.filter((e) => !written.has(ledgerKey(e.table, e.destination))), ...intents];
    if (puts.length > 0 || gone.length > 0) await this.#ledger.writeLedger(puts, gone, signal);
  }

  /** Confirms what the cloud did; forgets what it deleted. A failed action leaves its intent (looked at again next pass). */
  async afterActing(results: readonly ActionResult[], signal: AbortSignal): Promise<void> {
    const time = this.now();
    const puts: LedgerEntry[] = [];
    const deletes: string[] = [];
    for (const r of results) {
      if (r.outcome !== 'done') continue;
      if (r.action.op === 'delete') deletes.push(ledgerKey(r.action.table, r.action.route.destination));
      else puts.push({ table: r.action.table, destination: r.action.destination, nextHop: r.action.nextHop, state: 'confirmed', time });
    }
    if (puts.length > 0 || deletes.length > 0) await this.#ledger.writeLedger(puts, deletes, signal);
  }
}
