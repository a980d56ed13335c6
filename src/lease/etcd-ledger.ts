// The ownership ledger in etcd: `<prefix>/controller/ledger/<cluster>/<table>/<dst>`
// (beside the leader key, under what the controller's etcd role may write).
// One per cluster name, so two clusters sharing a route table never own each
// other's routes.
import type { Etcd3, IRequestOp } from 'etcd3';
import { DEFAULT_ETCD_CALL_TIMEOUT_MS, etcdCall } from './etcd-call.ts';
import { type LedgerEntry, type OwnershipLedger, decodeLedgerEntry, encodeLedgerEntry, ledgerKey } from './ledger.ts';

/** Operations per etcd transaction (etcd allows 128 by default). */
const BATCH = 64;

export interface EtcdLedgerOptions {
  readonly client: Etcd3;
  /** The etcd prefix of the network (e.g. /coreos.com/network). */
  readonly prefix: string;
  readonly cluster: string;
  readonly timeoutMs?: number | undefined;
}

export class EtcdLedger implements OwnershipLedger {
  readonly #o: EtcdLedgerOptions;
  readonly #root: string;

  constructor(opts: EtcdLedgerOptions) {
    this.#o = opts;
    this.#root = `${opts.prefix.replace(/\/+$/, '')}/controller/ledger/${opts.cluster}/`;
  }

  async listLedger(signal: AbortSignal): Promise<ReadonlyMap<string, LedgerEntry>> {
    const res = await this.#call(`list ${this.#root}`, signal, () => this.#o.client.getAll().prefix(this.#root).exec());
    const out = new Map<string, LedgerEntry>();
    for (const kv of res.kvs) {
      const key = kv.key.toString('utf8').slice(this.#root.length);
      try {
        out.set(key, decodeLedgerEntry(key, kv.value.toString('utf8')));
      } catch {
        // An entry that does not decode owns nothing; it is overwritten or deleted with its route.
      }
    }
    return out;
  }

  async writeLedger(puts: readonly LedgerEntry[], deletes: readonly string[], signal: AbortSignal): Promise<void> {
    const ops: IRequestOp[] = [
      ...puts.map((e): IRequestOp => ({ request_put: { key: Buffer.from(this.#root + ledgerKey(e.table, e.destination)), value: Buffer.from(encodeLedgerEntry(e)) } })),
      ...deletes.map((k): IRequestOp => ({ request_delete_range: { key: Buffer.from(this.#root + k) } })),
    ];
    for (let i = 0; i < ops.length; i += BATCH) {
      const success = ops.slice(i, i + BATCH);
      await this.#call(`write ${success.length} ledger entries`, signal, () => this.#o.client.kv.txn({ success }));
    }
  }

  async #call<T>(what: string, signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
    return await etcdCall({ what, signal, timeoutMs: this.#o.timeoutMs ?? DEFAULT_ETCD_CALL_TIMEOUT_MS }, fn);
  }
}
