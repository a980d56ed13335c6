// The ownership ledger: which cloud routes this cluster's controller made. A route
// is tartan's when the ledger says so (or when it is exactly a current lease's
// desired route: adoption), never merely because it looks like one. The
// controller records each route it is about to create or replace (`intent`)
// before the call and confirms it after; a deletion removes the entry only once
// the route is gone. Clouds that cannot mark routes (AWS) rely on it; where the
// cloud marks routes itself (GCE names, Alibaba descriptions) the mark stays the
// rule and the ledger is kept beside it. One ledger per cluster name.
import { InvalidInputError } from '../errors.ts';

export interface LedgerEntry {
  readonly table: string;
  /** Canonical CIDR. */
  readonly destination: string;
  readonly nextHop: { readonly kind: string; readonly id: string };
  /** `intent`: recorded before the create/replace call; `confirmed`: the cloud said it is done (or the route was adopted). */
  readonly state: 'intent' | 'confirmed';
  /** ISO 8601 time of the record. */
  readonly time: string;
}

export interface OwnershipLedger {
  /** Every entry of this cluster, by ledgerKey. */
  listLedger(signal: AbortSignal): Promise<ReadonlyMap<string, LedgerEntry>>;
  /** Puts and deletes (by ledgerKey) in few requests. */
  writeLedger(puts: readonly LedgerEntry[], deletes: readonly string[], signal: AbortSignal): Promise<void>;
}

/** `rtb-1/10.244.3.0-24`: the table, then the destination in flannel's key form. */
export function ledgerKey(table: string, destination: string): string {
  return `${table}/${destination.replace('/', '-')}`;
}

export function encodeLedgerEntry(e: LedgerEntry): string {
  return JSON.stringify({ table: e.table, destination: e.destination, nextHop: { kind: e.nextHop.kind, id: e.nextHop.id }, state: e.state, time: e.time });
}

/** Parses an entry; every error names the key and the field. */
export function decodeLedgerEntry(key: string, text: string): LedgerEntry {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new InvalidInputError(`ledger ${key}`, text, 'value is not JSON', { cause: err });
  }
  const o = raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : undefined;
  const hop = o?.nextHop !== null && typeof o?.nextHop === 'object' ? (o.nextHop as Record<string, unknown>) : undefined;
  const str = (v: unknown, field: string): string => {
    if (typeof v !== 'string' || v === '') throw new InvalidInputError(`ledger ${key}.${field}`, v, 'must be a non-empty string');
    return v;
  };
  if (!o) throw new InvalidInputError(`ledger ${key}`, raw, 'value is not a JSON object');
  const state = o.state;
  if (state !== 'intent' && state !== 'confirmed') throw new InvalidInputError(`ledger ${key}.state`, state, 'must be intent or confirmed');
  const entry: LedgerEntry = {
    table: str(o.table, 'table'), destination: str(o.destination, 'destination'),
    nextHop: { kind: str(hop?.kind, 'nextHop.kind'), id: str(hop?.id, 'nextHop.id') }, state, time: str(o.time, 'time'),
  };
  if (ledgerKey(entry.table, entry.destination) !== key) throw new InvalidInputError(`ledger ${key}`, text, 'the key does not name its table and destination');
  return entry;
}
