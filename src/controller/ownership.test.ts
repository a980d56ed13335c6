// Ownership from the ledger, by table: which observed routes are tartan's.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type LedgerEntry, ledgerKey } from '../lease/ledger.ts';
import type { NextHop, RouteEntry } from '../../providers/route-table.ts';
import { applyLedger } from './ownership.ts';
import type { ObservedTable } from './observe.ts';

const hop = (id: string): NextHop => ({ kind: 'instance', id });
const route = (dst: string, id: string, owned = true): RouteEntry => ({ table: 'rtb-1', destination: dst, nextHop: hop(id), state: 'active', owned });
const table = (owned: RouteEntry[], foreign: RouteEntry[] = []): ObservedTable => ({ table: 'rtb-1', listing: { owned, foreign }, capacity: { quota: 50, used: owned.length + foreign.length } });
const entry = (dst: string, id: string): LedgerEntry => ({ table: 'rtb-1', destination: dst, nextHop: hop(id), state: 'confirmed', time: 't0' });
const ledger = (...entries: LedgerEntry[]) => new Map(entries.map((e) => [ledgerKey(e.table, e.destination), e]));

describe('applyLedger', () => {
  const cases: { description: string; marks: boolean; owned: RouteEntry[]; ledger: Map<string, LedgerEntry>; desired: [string, string][]; want: { owned: string[]; foreign: string[]; adopt: string[]; gone: string[] } }[] = [
    {
      description: 'AWS: a route that looks like tartan\'s but is in no ledger and no lease wants it → foreign (made by hand)',
      marks: false, owned: [route('10.244.7.0/24', 'i-5')], ledger: ledger(), desired: [],
      want: { owned: [], foreign: ['10.244.7.0/24'], adopt: [], gone: [] },
    },
    {
      description: 'AWS: in the ledger, no lease any more → owned (a stale route tartan may delete)',
      marks: false, owned: [route('10.244.7.0/24', 'i-5')], ledger: ledger(entry('10.244.7.0/24', 'i-5')), desired: [],
      want: { owned: ['10.244.7.0/24'], foreign: [], adopt: [], gone: [] },
    },
    {
      description: 'AWS: no ledger entry, but exactly a lease\'s desired route → owned and adopted',
      marks: false, owned: [route('10.244.1.0/24', 'i-1')], ledger: ledger(), desired: [['10.244.1.0/24', 'i-1']],
      want: { owned: ['10.244.1.0/24'], foreign: [], adopt: ['10.244.1.0/24'], gone: [] },
    },
    {
      description: 'AWS: no ledger entry, the lease wants another next hop → foreign (a conflict, never replaced)',
      marks: false, owned: [route('10.244.1.0/24', 'i-9')], ledger: ledger(), desired: [['10.244.1.0/24', 'i-1']],
      want: { owned: [], foreign: ['10.244.1.0/24'], adopt: [], gone: [] },
    },
    {
      description: 'a ledger entry whose route is gone → forgotten',
      marks: false, owned: [], ledger: ledger(entry('10.244.3.0/24', 'i-3')), desired: [],
      want: { owned: [], foreign: [], adopt: [], gone: ['rtb-1/10.244.3.0-24'] },
    },
    {
      description: 'GCE/Alibaba: the cloud\'s mark stands; a marked route missing from the ledger is recorded',
      marks: true, owned: [route('10.244.7.0/24', 'i-5')], ledger: ledger(), desired: [],
      want: { owned: ['10.244.7.0/24'], foreign: [], adopt: ['10.244.7.0/24'], gone: [] },
    },
  ];
  for (const c of cases) {
    test(c.description, () => {
      const out = applyLedger({ tables: [table(c.owned)], ledger: c.ledger, desired: new Map(c.desired.map(([d, id]) => [d, hop(id)])), marks: c.marks, now: 't1' });
      const t = out.tables[0]!;
      assert.deepEqual({
        owned: t.listing.owned.map((r) => r.destination), foreign: t.listing.foreign.map((r) => r.destination),
        adopt: out.adopt.map((e) => e.destination), gone: out.gone,
      }, c.want);
      for (const r of t.listing.foreign) assert.equal(r.owned, false);
    });
  }
});
