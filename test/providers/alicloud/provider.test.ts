// The provider against the VPC API emulator through the real SDK: waiting for
// Pending → Available, duplicates, serial writes, in-place next hop changes,
// blackholes, table discovery, retries and their counts.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConflictError, NotFoundError, NotOwnedError } from '../../../src/errors.ts';
import { type AlicloudFixture, FAST, startAlicloudFixture } from '../../emulators/alicloud/fixture.ts';
import type { CallRecord } from '../../emulators/alicloud/emulator.ts';

const signal = new AbortController().signal;
const WRITES = new Set(['CreateRouteEntry', 'CreateRouteEntries', 'DeleteRouteEntry', 'DeleteRouteEntries', 'ModifyRouteEntry']);
const CONFLICT_CODES = new Set(['IncorrectRouteEntryStatus', 'TaskConflict']);
let f: AlicloudFixture;

before(async () => {
  f = await startAlicloudFixture({ emulator: FAST.emulator, provider: FAST.provider, instances: 4 });
});
after(() => f.close());
beforeEach(() => {
  f.emu.admin.configure({ pendingMs: 20, deletingMs: 20, modifyingMs: 20, conflictScope: 'vpc', busyCode: 'IncorrectRouteEntryStatus' });
  f.emu.admin.clearFaults();
  f.emu.admin.clearCalls();
});

let n = 0;
const dest = (): string => `10.244.${++n}.0/24`;
const hop = (i: number) => ({ kind: 'instance' as const, id: f.instances[i]!.id });
const custom = () => f.emu.admin.entries({ tableId: f.tableId }).filter((e) => e.type === 'Custom');
const writes = (): CallRecord[] => f.emu.admin.calls().filter((c) => WRITES.has(c.action));

describe('alicloud provider', () => {
  test('createRoute returns only once the entry is Available, marked as the cluster\'s', async () => {
    f.emu.admin.configure({ pendingMs: 150 });
    const d = dest();
    const started = Date.now();
    await f.provider.createRoute(f.tableId, { destination: d, nextHop: hop(0) }, signal);
    assert.ok(Date.now() - started >= 150, 'waited for the Pending delay');
    const e = custom().find((x) => x.destination === d)!;
    assert.deepEqual([e.status, e.name, e.description], ['Available', 'tartan-fixture', 'tartan:fixture']);
    const polls = f.emu.admin.calls().filter((c) => c.action === 'DescribeRouteEntryList');
    assert.ok(polls.length >= 2, 'polled while Pending');
    assert.ok(polls.every((c) => c.params.DestinationCidrBlock === d), 'polls filter by destination');
  });

  test('a duplicate with the same next hop is success; with another, a ConflictError that changes nothing', async () => {
    const d = dest();
    await f.provider.createRoute(f.tableId, { destination: d, nextHop: hop(0) }, signal);
    const other = f.makeProvider(FAST.provider); // another replica: knows nothing of the first
    await other.createRoute(f.tableId, { destination: d, nextHop: hop(0) }, signal);
    await assert.rejects(other.createRoute(f.tableId, { destination: d, nextHop: hop(1) }, signal), ConflictError);
    assert.deepEqual(writes().map((c) => c.code), ['OK', 'InvalidCIDRBlock.Duplicate', 'InvalidCIDRBlock.Duplicate']);
    assert.deepEqual(custom().filter((e) => e.destination === d).map((e) => e.nextHops[0]!.NextHopId), [f.instances[0]!.id]);
  });

  test('a duplicate that is not marked is a ConflictError even with the same next hop', async () => {
    const d = dest();
    f.emu.admin.seedEntry({ tableId: f.tableId, destination: d, name: 'by-hand', nextHops: [{ NextHopId: f.instances[0]!.id, NextHopType: 'Instance' }] });
    await assert.rejects(f.provider.createRoute(f.tableId, { destination: d, nextHop: hop(0) }, signal), ConflictError);
  });

  test('concurrent writes queue behind the write lock: the API never sees two at once', async () => {
    f.emu.admin.configure({ pendingMs: 30, deletingMs: 30 });
    const ds = Array.from({ length: 8 }, dest);
    await Promise.all(ds.map((d, i) => f.provider.createRoute(f.tableId, { destination: d, nextHop: hop(i % 4) }, signal)));
    const listed = (await f.provider.listRoutes(f.tableId, signal)).owned.filter((r) => ds.includes(r.destination));
    await Promise.all(listed.map((r) => f.provider.deleteRoute(f.tableId, r, signal)));
    const log = writes();
    assert.equal(log.length, 16);
    assert.deepEqual(log.filter((c) => c.code !== 'OK'), [], 'no write was refused as conflicting');
    // Each write arrived after the previous one's entry had settled (it was polled Available / gone in between).
    const all = f.emu.admin.calls();
    for (let i = 1; i < log.length; i++) {
      const between = all.filter((c) => c.seq > log[i - 1]!.seq && c.seq < log[i]!.seq && c.action === 'DescribeRouteEntryList');
      assert.ok(between.length > 0, `write ${log[i]!.seq} was preceded by a settle check`);
    }
  });

  test('without the shared lock (two replicas), the same writes collide and are only saved by retries', async () => {
    // Long enough that the second replica's first write surely lands while the first one's entry is Pending.
    f.emu.admin.configure({ pendingMs: 200, busyCode: 'TaskConflict' });
    // Retries that outlast the other replica's Pending entries (two of 200 ms).
    const patient = { ...FAST.provider, retry: { baseMs: 20, maxMs: 200, attempts: 12 } };
    const a = f.makeProvider(patient);
    const b = f.makeProvider(patient);
    await Promise.all([dest(), dest(), dest(), dest()].map((d, i) => (i % 2 ? a : b).createRoute(f.tableId, { destination: d, nextHop: hop(0) }, signal)));
    assert.ok(writes().some((c) => CONFLICT_CODES.has(c.code)), 'the control case does produce conflicts');
    const busy = (a.calls().CreateRouteEntry?.busy ?? 0) + (b.calls().CreateRouteEntry?.busy ?? 0);
    assert.equal(busy, writes().filter((c) => CONFLICT_CODES.has(c.code)).length, 'every refusal was counted as busy and retried');
  });

  test('deleteRoute refuses routes that are not tartan\'s before any call, and re-checks ownership at the cloud', async () => {
    const d = dest();
    const { id } = f.emu.admin.seedEntry({ tableId: f.tableId, destination: d, nextHops: [{ NextHopId: f.instances[0]!.id, NextHopType: 'Instance' }] });
    const route = { table: f.tableId, destination: d, nextHop: hop(0), state: 'active' as const, owned: false, id };
    await assert.rejects(f.provider.deleteRoute(f.tableId, route, signal), NotOwnedError);
    assert.equal(f.emu.admin.calls().length, 0, 'no API call for a route marked not owned');
    await assert.rejects(f.provider.deleteRoute(f.tableId, { ...route, owned: true }, signal), NotOwnedError);
    assert.equal(writes().length, 0, 'a foreign entry is never sent to DeleteRouteEntry');
  });

  test('replaceRoute moves the next hop in place (same entry id), through Modifying', async () => {
    const d = dest();
    await f.provider.createRoute(f.tableId, { destination: d, nextHop: hop(0) }, signal);
    const before = custom().find((e) => e.destination === d)!;
    await f.provider.replaceRoute(f.tableId, { destination: d, nextHop: hop(1) }, signal);
    const afterReplace = custom().find((e) => e.destination === d)!;
    assert.deepEqual([afterReplace.id, afterReplace.status, afterReplace.nextHops[0]!.NextHopId], [before.id, 'Available', f.instances[1]!.id]);
    await assert.rejects(f.provider.replaceRoute(f.tableId, { destination: dest(), nextHop: hop(1) }, signal), NotFoundError);
  });

  test('the entries of a released instance read as blackhole; replaceRoute repairs them', async () => {
    f.emu.admin.seedInstance({ id: 'i-doomed', vpcId: 'vpc-tartan', privateIps: ['192.168.0.99'] });
    const d = dest();
    await f.provider.createRoute(f.tableId, { destination: d, nextHop: { kind: 'instance', id: 'i-doomed' } }, signal);
    f.emu.admin.releaseInstance({ id: 'i-doomed' });
    const seen = (await f.provider.listRoutes(f.tableId, signal)).owned.find((r) => r.destination === d);
    assert.equal(seen?.state, 'blackhole');
    await f.provider.replaceRoute(f.tableId, { destination: d, nextHop: hop(2) }, signal);
    assert.equal((await f.provider.listRoutes(f.tableId, signal)).owned.find((r) => r.destination === d)?.state, 'active');
  });

  test('tables: explicit ids are checked; without ids, Custom tables carrying the cluster tag', async () => {
    f.emu.admin.seedTable({ id: 'vtb-untagged', vpcId: 'vpc-tartan' });
    assert.deepEqual(await f.provider.tables(signal), [{ id: f.tableId, name: 'tartan' }]);
    const discover = f.makeProvider({ ...FAST.provider, routeTableIds: undefined });
    assert.deepEqual((await discover.tables(signal)).map((t) => t.id), [f.tableId]);
    await assert.rejects(f.makeProvider({ ...FAST.provider, routeTableIds: ['vtb-missing'] }).tables(signal), NotFoundError);
    // Discovery pages even when the API answers fewer tables per page than asked for.
    for (const id of ['vtb-more1', 'vtb-more2']) f.emu.admin.seedTable({ id, vpcId: 'vpc-tartan', tags: [{ Key: 'tartan.io/cluster', Value: 'fixture' }] });
    f.emu.admin.setPageSizeCap({ n: 2 });
    try {
      assert.deepEqual((await discover.tables(signal)).map((t) => t.id).sort(), [f.tableId, 'vtb-more1', 'vtb-more2'].sort());
    } finally {
      f.emu.admin.setPageSizeCap({ n: 100 });
    }
  });

  test('a lost answer is retried with the same ClientToken: one entry, counted as a network failure', async () => {
    f.emu.admin.injectFaults({ dropAfter: 1, actions: ['CreateRouteEntry'] });
    f.emu.admin.injectFaults({ throttle: 1, actions: ['DescribeRouteEntryList'] });
    const p = f.makeProvider(FAST.provider);
    const d = dest();
    await p.createRoute(f.tableId, { destination: d, nextHop: hop(0) }, signal);
    assert.equal(custom().filter((e) => e.destination === d).length, 1);
    const creates = writes();
    assert.deepEqual(creates.map((c) => c.code), ['DROPPED', 'OK']);
    assert.equal(creates[0]!.params.ClientToken, creates[1]!.params.ClientToken);
    assert.deepEqual(p.calls().CreateRouteEntry, { network: 1, ok: 1 });
    assert.equal(p.calls().DescribeRouteEntryList?.throttled, 1);
  });

  test('capacity counts Custom entries against the quota; System entries take no place', async () => {
    const { quota, used } = await f.provider.capacity(f.tableId, signal);
    assert.equal(quota, 200);
    assert.equal(used, custom().length);
    assert.ok(f.emu.admin.entries({ tableId: f.tableId }).some((e) => e.type === 'System'));
  });
});
