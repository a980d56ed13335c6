// The emulator's route-table semantics, driven through the real SDK (via the
// provider's thin api.ts) with a hand-moved clock: asynchronous writes, the
// VPC-wide write block, the API's error codes, batches, pagination, quotas.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AlicloudApiError, createVpcApi, TransientApiError, type VpcApi } from '../../../providers/alicloud/api.ts';
import { type AlicloudEmulator, EMULATOR_ACCESS_KEY, startAlicloudEmulator } from './emulator.ts';

const signal = new AbortController().signal;
let t = 1_000_000;
let emu: AlicloudEmulator;
let api: VpcApi;

before(async () => {
  emu = await startAlicloudEmulator({ now: () => t, settings: { pendingMs: 1000, deletingMs: 500 }, rateLimits: { enabled: false } });
  api = createVpcApi({ regionId: 'cn-hangzhou', endpoint: emu.url, accessKeyId: EMULATOR_ACCESS_KEY.id, accessKeySecret: EMULATOR_ACCESS_KEY.secret });
});
after(() => emu.close());
beforeEach(() => {
  emu.admin.reset();
  emu.admin.seedVpc({ id: 'vpc-1', cidr: '192.168.0.0/16', vswitches: [{ id: 'vsw-1', cidr: '192.168.0.0/24' }] });
  emu.admin.seedVpc({ id: 'vpc-2', cidr: '172.16.0.0/16' });
  emu.admin.seedTable({ id: 'vtb-1', vpcId: 'vpc-1' });
  emu.admin.seedTable({ id: 'vtb-2', vpcId: 'vpc-1' });
  emu.admin.seedTable({ id: 'vtb-other', vpcId: 'vpc-2' });
  emu.admin.seedInstance({ id: 'i-1', vpcId: 'vpc-1', privateIps: ['192.168.0.11'] });
  emu.admin.seedInstance({ id: 'i-2', vpcId: 'vpc-1', privateIps: ['192.168.0.12'] });
  emu.admin.seedInstance({ id: 'i-far', vpcId: 'vpc-2', privateIps: ['172.16.0.5'] });
});

const create = (destination: string, instanceId = 'i-1', tableId = 'vtb-1', clientToken = `tok-${destination}-${tableId}`) =>
  api.createRouteEntry({ tableId, destination, instanceId, name: 'n', description: 'd', clientToken }, signal);
const entry = async (destination: string, tableId = 'vtb-1') =>
  (await api.describeRouteEntryList({ tableId, destination, maxResult: 10 }, signal)).entries[0];
const rejectsWith = (p: Promise<unknown>, code: string, status: number) =>
  assert.rejects(p, (e: unknown) => e instanceof AlicloudApiError && e.code === code && e.status === status);

describe('alicloud emulator: route entries', () => {
  test('a new table holds the System entries of its VPC', async () => {
    const { entries } = await api.describeRouteEntryList({ tableId: 'vtb-1', maxResult: 100 }, signal);
    assert.deepEqual(entries.map((e) => [e.destination, e.type, e.nextHops[0]?.type]), [
      ['192.168.0.0/24', 'System', 'local'],
      ['100.64.0.0/10', 'System', 'service'],
    ]);
  });

  test('creation is asynchronous: Pending until pendingMs, then Available', async () => {
    const { routeEntryId } = await create('10.244.1.0/24');
    assert.match(routeEntryId, /^rte-/);
    assert.equal((await entry('10.244.1.0/24'))?.status, 'Pending');
    t += 999;
    assert.equal((await entry('10.244.1.0/24'))?.status, 'Pending');
    t += 1;
    const e = await entry('10.244.1.0/24');
    assert.equal(e?.status, 'Available');
    assert.deepEqual(e?.nextHops, [{ type: 'Instance', id: 'i-1', enabled: undefined }]);
  });

  test('any write in the VPC is refused while an entry is Pending, in another table too', async () => {
    await create('10.244.1.0/24');
    await rejectsWith(create('10.244.2.0/24'), 'IncorrectRouteEntryStatus', 400);
    await rejectsWith(create('10.244.2.0/24', 'i-1', 'vtb-2'), 'IncorrectRouteEntryStatus', 400);
    await create('10.9.0.0/16', 'i-far', 'vtb-other');
    t += 1000;
    await create('10.244.2.0/24');
  });

  test('the code of a blocked write is a knob: TaskConflict', async () => {
    emu.admin.configure({ busyCode: 'TaskConflict' });
    await create('10.244.1.0/24');
    await rejectsWith(create('10.244.2.0/24'), 'TaskConflict', 400);
  });

  test('with conflictScope table, only the same table is blocked', async () => {
    emu.admin.configure({ conflictScope: 'table' });
    await create('10.244.1.0/24');
    await create('10.244.2.0/24', 'i-1', 'vtb-2');
    await rejectsWith(create('10.244.3.0/24'), 'IncorrectRouteEntryStatus', 400);
  });

  test('two writes in flight at once on one VPC: the second is a TaskConflict', async () => {
    emu.admin.setLatency({ ms: 50 });
    const results = await Promise.allSettled([create('10.244.1.0/24'), create('10.244.2.0/24', 'i-1', 'vtb-2')]);
    // Whichever arrived first wins; the other overlapped it.
    const codes = results.map((r) => (r.status === 'fulfilled' ? 'OK' : r.reason instanceof AlicloudApiError ? r.reason.code : String(r.reason)));
    assert.deepEqual(codes.sort(), ['OK', 'TaskConflict']);
  });

  test('the API error codes of CreateRouteEntry', async () => {
    await rejectsWith(create('10.244.1.0/24', 'i-1', 'vtb-nope'), 'InvalidRouteTableId.NotFound', 404);
    await rejectsWith(create('10.244.1.0/24', 'i-gone'), 'InvalidNextHopId.NotFound', 404);
    await rejectsWith(create('10.244.1.0/24', 'i-far'), 'InvalidNextHopId.NotFound', 404);
    await rejectsWith(create('10.244.1.300/24'), 'InvalidCidrBlock.Malformed', 400);
    await rejectsWith(create('192.168.0.0/25'), 'InvalidCidrBlock', 400);
    await rejectsWith(create('100.64.0.0/10'), 'InvalidCidrBlock', 400);
    await create('10.244.1.0/24');
    t += 1000;
    await rejectsWith(create('10.244.1.0/24', 'i-2', 'vtb-1', 'another-token'), 'InvalidCIDRBlock.Duplicate', 400);
    const calls = emu.admin.calls().map((c) => c.code);
    assert.deepEqual(calls, [
      'InvalidRouteTableId.NotFound', 'InvalidNextHopId.NotFound', 'InvalidNextHopId.NotFound', 'InvalidCidrBlock.Malformed',
      'InvalidCidrBlock', 'InvalidCidrBlock', 'OK', 'InvalidCIDRBlock.Duplicate',
    ]);
  });

  test('a ClientToken replays the first answer instead of failing as a duplicate', async () => {
    const first = await create('10.244.1.0/24', 'i-1', 'vtb-1', 'same-token');
    const again = await create('10.244.1.0/24', 'i-1', 'vtb-1', 'same-token');
    assert.equal(again.routeEntryId, first.routeEntryId);
  });

  test('the custom-entry quota counts Custom entries only', async () => {
    emu.admin.setTableQuota({ tableId: 'vtb-1', quota: 1 });
    await create('10.244.1.0/24');
    t += 1000;
    await rejectsWith(create('10.244.2.0/24'), 'QuotaExceeded', 400);
  });

  test('delete: only Available entries; Deleting until deletingMs; then gone; unknown ids are InvalidRouteEntry.NotFound', async () => {
    const { routeEntryId } = await create('10.244.1.0/24');
    await rejectsWith(api.deleteRouteEntry({ tableId: 'vtb-1', routeEntryId }, signal), 'IncorrectRouteEntryStatus', 400);
    t += 1000;
    await api.deleteRouteEntry({ tableId: 'vtb-1', routeEntryId }, signal);
    assert.equal((await entry('10.244.1.0/24'))?.status, 'Deleting');
    t += 500;
    assert.equal(await entry('10.244.1.0/24'), undefined);
    await rejectsWith(api.deleteRouteEntry({ tableId: 'vtb-1', routeEntryId }, signal), 'InvalidRouteEntry.NotFound', 400);
  });

  test('System entries cannot be deleted', async () => {
    const system = (await api.describeRouteEntryList({ tableId: 'vtb-1', type: 'System', maxResult: 10 }, signal)).entries[0]!;
    await rejectsWith(api.deleteRouteEntry({ tableId: 'vtb-1', routeEntryId: system.id }, signal), 'OperationDenied', 400);
  });

  test('batches succeed in part, with the batch failure codes', async () => {
    const ok = await api.createRouteEntries([
      { tableId: 'vtb-1', destination: '10.244.1.0/24', instanceId: 'i-1', name: 'a', description: 'b' },
      { tableId: 'vtb-1', destination: '10.244.2.0/24', instanceId: 'i-2', name: 'a', description: 'b' },
    ], signal);
    assert.equal(ok.routeEntryIds.length, 2);
    t += 1000;
    const mixed = await api.createRouteEntries([
      { tableId: 'vtb-1', destination: '10.244.1.0/24', instanceId: 'i-2', name: 'a', description: 'b' },
      { tableId: 'vtb-1', destination: '10.244.3.0/24', instanceId: 'i-gone', name: 'a', description: 'b' },
      { tableId: 'vtb-1', destination: '10.244.4.0/24', instanceId: 'i-1', name: 'a', description: 'b' },
    ], signal);
    assert.equal(mixed.routeEntryIds.length, 1);
    assert.deepEqual(mixed.failed.map((f) => [f.destination, f.code]), [
      ['10.244.1.0/24', 'VPC_ROUTE_ENTRY_CIDR_BLOCK_DUPLICATE'],
      ['10.244.3.0/24', 'InvalidNextHopId.NotFound'],
    ]);
    t += 1000;
    const del = await api.deleteRouteEntries([
      { tableId: 'vtb-1', routeEntryId: ok.routeEntryIds[0]! },
      { tableId: 'vtb-1', routeEntryId: 'rte-missing' },
    ], signal);
    assert.deepEqual(del.failed.map((f) => [f.routeEntryId, f.code]), [['rte-missing', 'VPC_ROUTER_ENTRY_NOT_EXIST']]);
    assert.equal((await entry('10.244.1.0/24'))?.status, 'Deleting');
  });

  test('a batch larger than maxBatch is refused whole', async () => {
    emu.admin.configure({ maxBatch: 2 });
    const items = [1, 2, 3].map((i) => ({ tableId: 'vtb-1', destination: `10.244.${i}.0/24`, instanceId: 'i-1', name: 'a', description: 'b' }));
    await rejectsWith(api.createRouteEntries(items, signal), 'InvalidParameter', 400);
    assert.equal(emu.admin.entries({ tableId: 'vtb-1' }).filter((e) => e.type === 'Custom').length, 0);
  });

  test('listing pages with NextToken under the page cap; a bad token is IllegalParam.NextToken', async () => {
    emu.admin.configure({ pendingMs: 0 });
    for (let i = 1; i <= 5; i++) emu.admin.seedEntry({ tableId: 'vtb-1', destination: `10.244.${i}.0/24`, nextHops: [{ NextHopId: 'i-1', NextHopType: 'Instance' }] });
    emu.admin.setPageSizeCap({ n: 3 });
    const seen: string[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const page = await api.describeRouteEntryList({ tableId: 'vtb-1', maxResult: 100, nextToken }, signal);
      assert.ok(page.entries.length <= 3);
      seen.push(...page.entries.map((e) => e.destination));
      nextToken = page.nextToken;
      pages++;
    } while (nextToken);
    assert.equal(pages, 3);
    assert.equal(new Set(seen).size, 7);
    await rejectsWith(api.describeRouteEntryList({ tableId: 'vtb-1', maxResult: 10, nextToken: 'garbage' }, signal), 'IllegalParam.NextToken', 400);
    await rejectsWith(api.describeRouteEntryList({ tableId: 'vtb-nope', maxResult: 10 }, signal), 'InvalidRouteTable.NotFound', 400);
    await rejectsWith(api.describeRouteEntryList({ tableId: 'vtb-1', maxResult: 101 }, signal), 'InvalidParameter', 400);
  });

  test('route tables: filter by VPC, type and tag', async () => {
    emu.admin.seedTable({ id: 'vtb-tagged', vpcId: 'vpc-1', tags: [{ Key: 'tartan.io/cluster', Value: 'c1' }] });
    const tagged = await api.describeRouteTableList({ vpcId: 'vpc-1', type: 'Custom', tag: { key: 'tartan.io/cluster', value: 'c1' }, pageNumber: 1, pageSize: 10 }, signal);
    assert.deepEqual(tagged.tables.map((x) => x.id), ['vtb-tagged']);
    const all = await api.describeRouteTableList({ vpcId: 'vpc-1', pageNumber: 1, pageSize: 2 }, signal);
    assert.deepEqual([all.totalCount, all.tables.length], [3, 2]);
  });

  test('a released instance leaves its entries with the next hop disabled (or deleted, by knob)', async () => {
    await create('10.244.1.0/24');
    t += 1000;
    emu.admin.releaseInstance({ id: 'i-1' });
    assert.equal((await entry('10.244.1.0/24'))?.nextHops[0]?.enabled, 0);
    emu.admin.configure({ releasedInstanceRoutes: 'delete' });
    await create('10.244.2.0/24', 'i-2');
    t += 1000;
    emu.admin.releaseInstance({ id: 'i-2' });
    assert.equal(await entry('10.244.2.0/24'), undefined);
  });

  test('ModifyRouteEntry moves the next hop in place through Modifying', async () => {
    const { routeEntryId } = await create('10.244.1.0/24');
    t += 1000;
    await api.modifyRouteEntry({ routeEntryId, newInstanceId: 'i-2' }, signal);
    const e = await entry('10.244.1.0/24');
    assert.deepEqual([e?.id, e?.status, e?.nextHops[0]?.id], [routeEntryId, 'Modifying', 'i-2']);
    t += 2000;
    await rejectsWith(api.modifyRouteEntry({ routeEntryId, newInstanceId: 'i-2' }, signal), 'OperationDenied.NextHopNotChanged', 400);
  });
});

describe('alicloud emulator: flow control and faults', () => {
  test('each API is metered per region: over the limit is 400 Throttling.User', async () => {
    emu.admin.setRateLimits({ enabled: true, read: { capacity: 2, refillPerSecond: 1 } });
    const list = () => api.describeRouteEntryList({ tableId: 'vtb-1', maxResult: 10 }, signal);
    await list();
    await list();
    await assert.rejects(list(), (e: unknown) => e instanceof TransientApiError && e.kind === 'throttled' && e.code === 'Throttling.User');
    // Another API has its own bucket; time refills.
    await api.describeRouteTableList({ vpcId: 'vpc-1', pageNumber: 1, pageSize: 10 }, signal);
    t += 1000;
    await list();
    assert.equal(emu.admin.calls().find((c) => c.code === 'Throttling.User')?.status, 400);
  });

  test('injected faults: throttling, 500, 503, dropped connections before and after handling', async () => {
    emu.admin.injectFaults({ throttle: 1, internal: 1, unavailable: 1, drop: 1, actions: ['DescribeRouteEntryList'] });
    emu.admin.injectFaults({ dropAfter: 1, actions: ['CreateRouteEntry'] });
    const list = () => api.describeRouteEntryList({ tableId: 'vtb-1', maxResult: 10 }, signal);
    const kinds: string[] = [];
    for (let i = 0; i < 4; i++) await list().catch((e: unknown) => kinds.push(e instanceof TransientApiError ? `${e.kind}:${e.code}` : String(e)));
    assert.deepEqual(kinds, ['throttled:Throttling.User', 'server_error:InternalError', 'server_error:ServiceUnavailable', 'network:ECONNRESET']);
    await list();
    await assert.rejects(create('10.244.1.0/24'), (e: unknown) => e instanceof TransientApiError && e.kind === 'network');
    assert.equal((await entry('10.244.1.0/24'))?.status, 'Pending', 'the write was done although the answer was lost');
  });
});
