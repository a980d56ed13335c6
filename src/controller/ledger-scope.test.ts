import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type LedgerEntry, type OwnershipLedger, ledgerKey } from '../lease/ledger.ts';
import { DomainLedger, scopedLedgerName } from './ledger-scope.ts';

class MemoryLedger implements OwnershipLedger {
  readonly entries = new Map<string, LedgerEntry>();
  async listLedger(): Promise<ReadonlyMap<string, LedgerEntry>> {
    return await Promise.resolve(new Map(this.entries));
  }
  async writeLedger(puts: readonly LedgerEntry[], deletes: readonly string[]): Promise<void> {
    for (const e of puts) this.entries.set(ledgerKey(e.table, e.destination), e);
    for (const k of deletes) this.entries.delete(k);
    await Promise.resolve();
  }
}

const entry = (table: string, n: number, state: LedgerEntry['state'] = 'confirmed'): LedgerEntry => ({
  table, destination: `10.244.${n}.0/24`, nextHop: { kind: 'instance', id: `i-${n}` }, state, time: '2025-01-01T00:00:00.000Z',
});
const signal = new AbortController().signal;

describe('DomainLedger', () => {
  test('names: one ledger per cluster and route domain', () => {
    assert.equal(scopedLedgerName('prod', 'aws:vpc-1'), 'prod/aws-vpc-1');
    assert.equal(scopedLedgerName('prod', 'gce:projects/p/global/networks/default'), 'prod/gce-p.default');
  });

  test('an old per-cluster entry counts as recorded, and moves when written again or goes when deleted', async () => {
    const legacy = new MemoryLedger();
    const scoped = new MemoryLedger();
    await legacy.writeLedger([entry('rtb-1', 1), entry('rtb-1', 2), entry('rtb-1', 3)], []);
    const ledger = new DomainLedger({ scoped, legacy });
    assert.deepEqual([...(await ledger.listLedger(signal)).keys()].sort(), ['rtb-1/10.244.1.0-24', 'rtb-1/10.244.2.0-24', 'rtb-1/10.244.3.0-24']);
    await ledger.writeLedger([entry('rtb-1', 1, 'intent')], ['rtb-1/10.244.2.0-24'], signal);
    assert.deepEqual([...legacy.entries.keys()], ['rtb-1/10.244.3.0-24'], 'entry 1 moved, entry 2 deleted, entry 3 untouched');
    assert.deepEqual([...scoped.entries.keys()], ['rtb-1/10.244.1.0-24']);
    assert.equal((await ledger.listLedger(signal)).get('rtb-1/10.244.1.0-24')?.state, 'intent', 'the scoped entry wins over an old one');
  });

  test('two domains of one cluster keep apart: one forgetting its entries leaves the other\'s', async () => {
    const legacy = new MemoryLedger();
    const a = new DomainLedger({ scoped: new MemoryLedger(), legacy });
    const bScoped = new MemoryLedger();
    const b = new DomainLedger({ scoped: bScoped, legacy });
    await a.listLedger(signal);
    await b.listLedger(signal);
    await b.writeLedger([entry('default', 1)], [], signal);
    await a.writeLedger([entry('default', 2)], ['default/10.244.1.0-24'], signal);
    assert.deepEqual([...bScoped.entries.keys()], ['default/10.244.1.0-24']);
  });
});
