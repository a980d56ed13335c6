// The ownership ledger of one route domain, `<prefix>/controller/ledger/<cluster>/<domain-slug>/`:
// two controllers of one cluster (one per cloud network) each keep their own, so
// one never forgets the other's entries (a GCE network's "table" is its name, and
// two projects may both call theirs `default`). Entries an older controller kept
// per cluster only (`<cluster>/<table>/<dst>`) still count as recorded; each leaves
// that old place once it is written again or deleted here.
import { type LedgerEntry, type OwnershipLedger, ledgerKey } from '../lease/ledger.ts';
import { routeDomainSlug } from '../lease/hybrid.ts';

/** The ledger name below `<prefix>/controller/ledger/` of a cluster's controller for one route domain. */
export function scopedLedgerName(cluster: string, routeDomain: string): string {
  return `${cluster}/${routeDomainSlug(routeDomain)}`;
}

export class DomainLedger implements OwnershipLedger {
  readonly #scoped: OwnershipLedger;
  readonly #legacy: OwnershipLedger;
  /** Keys the last listing found in the old place. */
  #legacyKeys = new Set<string>();

  constructor(opts: { readonly scoped: OwnershipLedger; readonly legacy: OwnershipLedger }) {
    this.#scoped = opts.scoped;
    this.#legacy = opts.legacy;
  }

  async listLedger(signal: AbortSignal): Promise<ReadonlyMap<string, LedgerEntry>> {
    const [legacy, scoped] = await Promise.all([this.#legacy.listLedger(signal), this.#scoped.listLedger(signal)]);
    this.#legacyKeys = new Set(legacy.keys());
    return new Map([...legacy, ...scoped]);
  }

  async writeLedger(puts: readonly LedgerEntry[], deletes: readonly string[], signal: AbortSignal): Promise<void> {
    await this.#scoped.writeLedger(puts, deletes, signal);
    const moved = [...deletes, ...puts.map((e) => ledgerKey(e.table, e.destination))].filter((k) => this.#legacyKeys.has(k));
    if (moved.length === 0) return;
    await this.#legacy.writeLedger([], moved, signal);
    for (const k of moved) this.#legacyKeys.delete(k);
  }
}
