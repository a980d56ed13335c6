// Batch writes (CreateRouteEntries / DeleteRouteEntries) against the emulator:
// partial failures sorted into done and failed with typed errors, chunking by
// maxBatch, and every chunk settled before the next one is sent.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConflictError, InvalidInputError, NotFoundError, NotOwnedError, QuotaExceededError } from '../../../src/errors.ts';
import { EMULATOR_ACCESS_KEY } from '../../emulators/alicloud/emulator.ts';
import { type AlicloudFixture, FAST, FIXTURE, startAlicloudFixture } from '../../emulators/alicloud/fixture.ts';
import { createVpcApi, type VpcApi } from '../../../providers/alicloud/api.ts';
import { createAlicloudProvider } from '../../../providers/alicloud/index.ts';
import { canBatch, type RouteEntry } from '../../../providers/route-table.ts';

const signal = new AbortController().signal;
let f: AlicloudFixture;

before(async () => {
  f = await startAlicloudFixture({ emulator: FAST.emulator, provider: { ...FAST.provider, maxBatch: 2 }, instances: 3 });
});
after(() => f.close());
beforeEach(() => {
  f.emu.admin.setTableQuota({ tableId: f.tableId, quota: 200 });
  f.emu.admin.clearCalls();
});

let n = 100;
const dest = (): string => `10.244.${++n}.0/24`;
const hop = (i: number) => ({ kind: 'instance' as const, id: f.instances[i]!.id });
const fixtureOptions = () => ({
  regionId: FIXTURE.region, vpcId: FIXTURE.vpcId, routeTableIds: [FIXTURE.tableId], clusterName: FIXTURE.clusterName,
  clusterNetworks: [FIXTURE.clusterNetwork], ...FAST.provider, maxBatch: 2,
});
const errorsOf = (failed: readonly { destination: string; error: Error }[]) =>
  Object.fromEntries(failed.map((x) => [x.destination, x.error.constructor.name]));

describe('alicloud provider: batches', () => {
  test('the provider says it can batch, with its maxBatch', () => {
    assert.ok(canBatch(f.provider));
    assert.equal(f.provider.maxBatch, 2);
  });

  test('createRoutes: partial failures are typed, the rest created in chunks of maxBatch, each settled first', async () => {
    const [ok1, ok2, ok3, mine, foreign, ghost] = [dest(), dest(), dest(), dest(), dest(), dest()];
    await f.provider.createRoute(f.tableId, { destination: mine, nextHop: hop(0) }, signal);
    f.emu.admin.seedEntry({ tableId: f.tableId, destination: foreign, nextHops: [{ NextHopId: f.instances[1]!.id, NextHopType: 'Instance' }] });
    f.emu.admin.clearCalls();
    const result = await f.provider.createRoutes(f.tableId, [
      { destination: ok1, nextHop: hop(0) },
      { destination: ok2, nextHop: hop(1) },
      { destination: mine, nextHop: hop(0) },
      { destination: foreign, nextHop: hop(1) },
      { destination: ghost, nextHop: { kind: 'instance', id: 'i-nosuch' } },
      { destination: '10.9.0.0/24', nextHop: hop(0) },
      { destination: ok3, nextHop: hop(2) },
    ], signal);
    assert.deepEqual(new Set(result.done), new Set([ok1, ok2, ok3, mine]));
    assert.deepEqual(errorsOf(result.failed), {
      [foreign]: ConflictError.name, [ghost]: NotFoundError.name, '10.9.0.0/24': InvalidInputError.name,
    });
    const calls = f.emu.admin.calls();
    const batches = calls.filter((c) => c.action === 'CreateRouteEntries');
    assert.equal(batches.length, 2, 'ok1, ok2 | ghost, ok3');
    assert.ok(batches.every((c) => c.code === 'OK'));
    const between = calls.filter((c) => c.seq > batches[0]!.seq && c.seq < batches[1]!.seq && c.action === 'DescribeRouteEntryList');
    assert.ok(between.length > 0, 'the first chunk was waited on before the second was sent');
    const owned = (await f.provider.listRoutes(f.tableId, signal)).owned;
    for (const d of [ok1, ok2, ok3]) assert.equal(owned.find((r) => r.destination === d)?.state, 'active');
  });

  test('createRoutes: one destination asked twice with different next hops is a ConflictError for the second', async () => {
    const d = dest();
    const result = await f.provider.createRoutes(f.tableId, [{ destination: d, nextHop: hop(0) }, { destination: d, nextHop: hop(1) }], signal);
    assert.deepEqual(result.done, [d]);
    assert.deepEqual(errorsOf(result.failed), { [d]: ConflictError.name });
  });

  test('createRoutes: a full table fails the routes past the quota with QuotaExceededError', async () => {
    const { used } = await f.provider.capacity(f.tableId, signal);
    f.emu.admin.setTableQuota({ tableId: f.tableId, quota: used + 1 });
    const [a, b] = [dest(), dest()];
    const result = await f.provider.createRoutes(f.tableId, [{ destination: a, nextHop: hop(0) }, { destination: b, nextHop: hop(1) }], signal);
    assert.deepEqual(result.done, [a]);
    assert.deepEqual(errorsOf(result.failed), { [b]: QuotaExceededError.name });
  });

  test('deleteRoutes: owned routes go, missing ones count as done, others are NotOwnedError without a call', async () => {
    const [a, b, c, gone, foreign] = [dest(), dest(), dest(), dest(), dest()];
    await f.provider.createRoutes(f.tableId, [a, b, c].map((d) => ({ destination: d, nextHop: hop(0) })), signal);
    const { id } = f.emu.admin.seedEntry({ tableId: f.tableId, destination: foreign, nextHops: [{ NextHopId: f.instances[0]!.id, NextHopType: 'Instance' }] });
    const owned = (await f.provider.listRoutes(f.tableId, signal)).owned.filter((r) => [a, b, c].includes(r.destination));
    const foreignRoute: RouteEntry = { table: f.tableId, destination: foreign, nextHop: hop(0), state: 'active', owned: true, id };
    const notOwned: RouteEntry = { ...foreignRoute, owned: false };
    const missing: RouteEntry = { table: f.tableId, destination: gone, nextHop: hop(0), state: 'active', owned: true };
    f.emu.admin.clearCalls();
    const result = await f.provider.deleteRoutes(f.tableId, [...owned, missing, foreignRoute, notOwned], signal);
    assert.deepEqual(new Set(result.done), new Set([a, b, c, gone]));
    assert.deepEqual(result.failed.map((x) => [x.destination, x.error.constructor.name]), [
      [foreign, NotOwnedError.name], [foreign, NotOwnedError.name],
    ]);
    const deletes = f.emu.admin.calls().filter((x) => x.action === 'DeleteRouteEntries');
    assert.equal(deletes.length, 2, 'three owned routes in chunks of two');
    assert.ok(deletes.every((x) => !Object.values(x.params).includes(id)), 'the foreign entry was never sent');
    const left = f.emu.admin.entries({ tableId: f.tableId }).map((e) => e.destination);
    assert.deepEqual([a, b, c].filter((d) => left.includes(d)), []);
    assert.ok(left.includes(foreign));
  });

  test('deleteRoutes: an entry gone between listing and deleting is done (VPC_ROUTER_ENTRY_NOT_EXIST)', async () => {
    const [d, e] = [dest(), dest()];
    await f.provider.createRoutes(f.tableId, [{ destination: d, nextHop: hop(0) }, { destination: e, nextHop: hop(0) }], signal);
    const routes = (await f.provider.listRoutes(f.tableId, signal)).owned.filter((r) => r.destination === d || r.destination === e);
    f.emu.admin.configure({ deletingMs: 0 });
    // Someone else deletes `d` after our listing, just before our batch reaches the API.
    const real = createVpcApi({ regionId: FIXTURE.region, endpoint: f.emu.url, accessKeyId: EMULATOR_ACCESS_KEY.id, accessKeySecret: EMULATOR_ACCESS_KEY.secret });
    const answered: string[] = [];
    const racing: VpcApi = {
      ...real,
      deleteRouteEntries: async (items, s) => {
        await real.deleteRouteEntry({ tableId: f.tableId, routeEntryId: routes.find((r) => r.destination === d)!.id! }, s);
        const answer = await real.deleteRouteEntries(items, s);
        answered.push(...answer.failed.map((x) => x.code));
        return answer;
      },
    };
    const p = createAlicloudProvider({ ...fixtureOptions(), api: racing });
    f.emu.admin.clearCalls();
    const result = await p.deleteRoutes(f.tableId, routes, signal);
    f.emu.admin.configure({ deletingMs: 20 });
    assert.deepEqual({ done: new Set(result.done), failed: result.failed }, { done: new Set([d, e]), failed: [] });
    assert.deepEqual(answered, ['VPC_ROUTER_ENTRY_NOT_EXIST']);
    assert.equal(p.calls().DeleteRouteEntries?.ok, 1);
  });
});
