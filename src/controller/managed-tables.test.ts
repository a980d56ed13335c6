import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { Gauge, Registry } from 'prom-client';
import type { RouteTableReader, TableCandidate, TableLookup } from '../../providers/route-table.ts';
import { Health } from '../observe/health.ts';
import { createLogger } from '../observe/log.ts';
import { FakeClock } from '../util/fake-clock.ts';
import { ManagedTables } from './managed-tables.ts';

const RESYNC_MS = 10_000;
const signal = new AbortController().signal;

function world(o: { lookup?: boolean; candidates?: () => Promise<TableCandidate[]> } = {}) {
  const lines: { level: number; msg: string }[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _e, cb) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as { level: number; msg: string });
      cb();
    },
  });
  let looks = 0;
  const lookup: TableLookup = {
    tableTag: { key: 'tartan.io/cluster', value: 'prod' },
    candidateTables: async () => {
      looks++;
      return o.candidates ? await o.candidates() : [{ id: 'rtb-typo', tags: { 'tartan.io/cluster': 'Prod' } }, { id: 'rtb-web', tags: { team: 'web' } }];
    },
  };
  const provider = { provider: 'aws', ...(o.lookup === false ? {} : lookup) } as unknown as RouteTableReader;
  const clock = new FakeClock();
  const health = new Health({ clock });
  const gauge = new Gauge({ name: 'tartan_managed_route_tables', help: 'x', registers: [new Registry()] });
  const managed = new ManagedTables({ provider, resyncMs: RESYNC_MS, clock, log: createLogger({ destination, level: 'info' }), health, gauge });
  return {
    managed, clock, health, lines, looks: () => looks,
    gauge: async () => (await gauge.get()).values[0]?.value,
    warnings: () => lines.filter((l) => l.msg.startsWith('managing no route table')).map((l) => l.msg),
  };
}

describe('a controller managing nothing says so', () => {
  test('no table: a warning naming the selector and the near miss, not ready with that reason, gauge 0', async () => {
    const w = world();
    await w.managed.observe([], signal);
    const why = 'managing no route table: no route table matches tag tartan.io/cluster=prod; similar: rtb-typo (tartan.io/cluster=Prod)';
    assert.deepEqual(w.warnings(), [why]);
    assert.deepEqual(w.health.readiness('leading'), { status: 503, body: `not ok: ${why}\n` });
    assert.equal(await w.gauge(), 0);
  });

  test('once per resync period, not on every event-driven pass (one look at the other tables each time)', async () => {
    const w = world();
    await w.managed.observe([], signal);
    for (let i = 0; i < 5; i++) {
      await w.clock.advance(RESYNC_MS / 10);
      await w.managed.observe([], signal);
    }
    assert.deepEqual([w.warnings().length, w.looks()], [1, 1]);
    await w.clock.advance(RESYNC_MS / 2);
    await w.managed.observe([], signal);
    assert.deepEqual([w.warnings().length, w.looks()], [2, 2], 'the next resync warns again');
  });

  test('tables appear: ready, gauge counts them, and losing them again warns at once', async () => {
    const w = world();
    await w.managed.observe([], signal);
    await w.managed.observe([{ table: 'rtb-typo' }, { table: 'rtb-2' }], signal);
    assert.equal(w.health.readiness('leading').status, 200);
    assert.equal(await w.gauge(), 2);
    assert.ok(w.lines.some((l) => l.msg === 'managing route tables again'));
    await w.managed.observe([], signal);
    assert.equal(w.warnings().length, 2);
    assert.equal(w.health.readiness('leading').status, 503);
  });

  const reasons: { description: string; lookup?: boolean; candidates?: () => Promise<TableCandidate[]>; reason: RegExp }[] = [
    { description: 'no similar table', candidates: async () => [{ id: 'rtb-web', tags: { team: 'web' } }], reason: /matches tag tartan\.io\/cluster=prod; no table with a similar tag$/ },
    { description: 'a cloud that cannot list other tables', lookup: false, reason: /matches the aws provider's route table selection; this cloud cannot list other tables to compare$/ },
    { description: 'listing the other tables fails: the reason says so', candidates: () => Promise.reject(new Error('UnauthorizedOperation')), reason: /matches tag tartan\.io\/cluster=prod; could not list the other tables: UnauthorizedOperation$/ },
  ];
  for (const c of reasons) {
    test(`reason: ${c.description}`, async () => {
      const w = world(c);
      await w.managed.observe([], signal);
      assert.match(w.warnings()[0] ?? '', c.reason);
      assert.match(w.health.readiness('leading').body.trim(), c.reason);
    });
  }
});
