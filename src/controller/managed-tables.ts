// A controller whose selector finds no route table manages nothing, and would
// otherwise say nothing: `became leader`, then silence, and /readyz ready. Every
// pass reports how many tables it manages (tartan_managed_route_tables). With
// none, it turns not ready with the reason, and at start and then once per resync
// period (not on every event-driven pass: each look at the other tables is one
// more cloud call) it logs a warning naming the selector and the tables a typo
// away (near-miss.ts). Tables appearing clear the reason at the next pass.
import type { Gauge } from 'prom-client';
import { errorMessage } from '../errors.ts';
import type { Health } from '../observe/health.ts';
import type { Logger } from '../observe/log.ts';
import type { Clock } from '../util/time.ts';
import { type RouteTableReader, canListCandidateTables } from '../../providers/route-table.ts';
import { type NearMiss, describeTag, nearMisses, unmanagedReason } from './near-miss.ts';

/** The Health reason key this file owns. */
export const ROUTE_TABLES_REASON = 'route-tables';

export interface ManagedTablesOptions {
  readonly provider: RouteTableReader;
  /** The controller's resync period: the warning (and the look at other tables) is repeated at most this often. */
  readonly resyncMs: number;
  readonly clock: Clock;
  readonly log: Logger;
  readonly health?: Health | undefined;
  /** tartan_managed_route_tables. */
  readonly gauge?: Gauge | undefined;
}

export class ManagedTables {
  readonly #o: ManagedTablesOptions;
  #lastLookAt = Number.NEGATIVE_INFINITY;
  #unmanaged = false;

  constructor(opts: ManagedTablesOptions) {
    this.#o = opts;
  }

  /** Called by every pass with the tables `tables()` found. */
  async observe(tables: readonly { readonly table: string }[], signal: AbortSignal): Promise<void> {
    const { log, health, clock } = this.#o;
    this.#o.gauge?.set(tables.length);
    if (tables.length > 0) {
      if (this.#unmanaged) log.info({ tables: tables.map((t) => t.table) }, 'managing route tables again');
      this.#unmanaged = false;
      this.#lastLookAt = Number.NEGATIVE_INFINITY;
      health?.setReason(ROUTE_TABLES_REASON, undefined);
      return;
    }
    this.#unmanaged = true;
    if (clock.now() - this.#lastLookAt < this.#o.resyncMs) return;
    this.#lastLookAt = clock.now();
    const { selector, misses, reason } = await this.#lookAround(signal);
    log.warn({ selector, nearMisses: misses?.map((m) => `${m.table} (${m.tag})`) }, `managing no route table: ${reason}`);
    health?.setReason(ROUTE_TABLES_REASON, `managing no route table: ${reason}`);
  }

  /** The selector in words, the near misses where the cloud can list the tables it did not pick, and the reason to give. */
  async #lookAround(signal: AbortSignal): Promise<{ selector: string; misses?: NearMiss[] | undefined; reason: string }> {
    const p = this.#o.provider;
    if (!canListCandidateTables(p) || p.tableTag === undefined) {
      const selector = `the ${p.provider} provider's route table selection`;
      return { selector, reason: unmanagedReason(selector, undefined) };
    }
    const selector = describeTag(p.tableTag);
    try {
      const misses = nearMisses(p.tableTag, await p.candidateTables(signal));
      return { selector, misses, reason: unmanagedReason(selector, misses) };
    } catch (err) {
      if (signal.aborted) throw err;
      return { selector, reason: `no route table matches ${selector}; could not list the other tables: ${errorMessage(err)}` };
    }
  }
}
