// The controller against the real Alibaba Cloud provider (@alicloud/vpc20160428)
// and the VPC emulator in process: convergence in two tables, lease deleted, host
// moved (hosts resolve from the lease's BackendData.InstanceID), drift.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Controller } from '../../src/controller/controller.ts';
import { DEFAULT_BUDGET } from '../../src/controller/planner.ts';
import { EtcdLeaseStore, type Lease } from '../../src/lease/index.ts';
import { silentLogger } from '../../src/observe/log.ts';
import { FAST, FIXTURE, startAlicloudFixture } from '../emulators/alicloud/fixture.ts';
import { etcdClientFixture, uniquePrefix } from '../support/etcd.ts';
import { acquireAll, agentAttrs, destinationOf, dropLease, forever, networkConfig } from './controller-kit.ts';

const DOMAIN = `alicloud:${FIXTURE.vpcId}`;
const SECOND_TABLE = 'vtb-tartan2';

async function world(instances: number, tables: readonly string[]) {
  const f = await startAlicloudFixture({ emulator: FAST.emulator, provider: FAST.provider, instances });
  if (tables.includes(SECOND_TABLE)) {
    f.emu.admin.seedTable({ id: SECOND_TABLE, vpcId: FIXTURE.vpcId, name: 'tartan-2', tags: [{ Key: 'tartan.io/cluster', Value: FIXTURE.clusterName }] });
  }
  const provider = f.makeProvider({ routeTableIds: [...tables] });
  const ours = (table: string) => new Map(f.emu.admin.entries({ tableId: table })
    .filter((e) => e.description === `tartan:${FIXTURE.clusterName}`)
    .map((e) => [e.destination, { id: e.id, nextHop: e.nextHops[0]?.NextHopId, enabled: e.nextHops[0]?.Enabled, status: e.status }]));
  const hosts = (from: number, to: number) => f.instances.slice(from, to).map((i) => ({ ip: i.ip, instanceId: i.id, domain: DOMAIN }));
  return { f, provider, ours, hosts };
}

describe('controller × Alibaba Cloud (VPC emulator)', () => {
  const etcd = etcdClientFixture();

  test('100 leases converge in two tables; a deleted lease loses its routes; a moved host gets them replaced', async (t) => {
    const tables = [FIXTURE.tableId, SECOND_TABLE];
    const w = await world(101, tables);
    t.after(() => w.f.close());
    const store = new EtcdLeaseStore({ client: etcd.client, prefix: uniquePrefix('ctl-ali') });
    const controller = new Controller({ config: networkConfig, leases: store, provider: w.provider, status: store, budget: DEFAULT_BUDGET, resyncMs: 60_000, log: silentLogger() });
    const leases = await acquireAll(store, w.hosts(0, 100));

    await controller.reconcileOnce(forever);
    for (const table of tables) {
      const got = w.ours(table);
      assert.equal(got.size, 100, `${table}: one entry per lease`);
      for (const [i, l] of leases.entries()) assert.equal(got.get(destinationOf(l))?.nextHop, w.f.instances[i]!.id);
    }
    assert.equal((await controller.reconcileOnce(forever)).plan.actions.length, 0);

    // Lease 0 expires. Instance 1 is released and a new one takes its address; its
    // agent republishes the lease with the new InstanceID. Lease 2 moves to the spare.
    await dropLease(etcd.client, store, leases[0]!);
    w.f.emu.admin.releaseInstance({ id: w.f.instances[1]!.id });
    w.f.emu.admin.seedInstance({ id: 'i-reborn1', vpcId: FIXTURE.vpcId, privateIps: [w.f.instances[1]!.ip] });
    await store.renew({ ...leases[1]!, attrs: agentAttrs({ ip: w.f.instances[1]!.ip, instanceId: 'i-reborn1', domain: DOMAIN }) }, forever);
    const spare = w.f.instances[100]!;
    await store.renew({ ...leases[2]!, attrs: agentAttrs({ ip: spare.ip, instanceId: spare.id, domain: DOMAIN }) }, forever);
    const ids = new Map(tables.map((tb) => [tb, w.ours(tb)]));
    await controller.reconcileOnce(forever);
    for (const table of tables) {
      const got = w.ours(table);
      assert.equal(got.size, 99);
      assert.equal(got.has(destinationOf(leases[0]!)), false);
      assert.deepEqual(got.get(destinationOf(leases[1]!)), { ...ids.get(table)!.get(destinationOf(leases[1]!))!, nextHop: 'i-reborn1', enabled: undefined });
      assert.equal(got.get(destinationOf(leases[2]!))?.nextHop, spare.id);
      assert.equal(got.get(destinationOf(leases[2]!))?.id, ids.get(table)!.get(destinationOf(leases[2]!))?.id, 'modified in place, not re-created');
    }
    assert.equal((await controller.reconcileOnce(forever)).plan.actions.length, 0);
    // Entries written per action: creates and deletes go in batches (≤ 50 per call), replaces one by one.
    const written = new Map<string, number>();
    for (const c of w.f.emu.admin.calls().filter((x) => /^(Create|Delete|Modify)/.test(x.action) && x.code === 'OK')) {
      const entries = Object.keys(c.params).filter((k) => /^RouteEntries\.\d+\.RouteTableId$/.test(k)).length || 1;
      assert.ok(entries <= 50, `${c.action} with ${entries} entries`);
      written.set(c.action, (written.get(c.action) ?? 0) + entries);
    }
    assert.deepEqual(Object.fromEntries(written), { CreateRouteEntries: 200, DeleteRouteEntries: 2, ModifyRouteEntry: 4 });
  });

  test('a lease republished with a new InstanceID while its route is gone gets a route to the new instance', async (t) => {
    const w = await world(3, [FIXTURE.tableId]);
    t.after(() => w.f.close());
    const store = new EtcdLeaseStore({ client: etcd.client, prefix: uniquePrefix('ctl-ali-moved') });
    const controller = new Controller({ config: networkConfig, leases: store, provider: w.provider, status: store, budget: DEFAULT_BUDGET, resyncMs: 60_000, log: silentLogger() });
    const [, b] = await acquireAll(store, w.hosts(0, 3)) as [Lease, Lease];
    await controller.reconcileOnce(forever);
    // This region removes a released instance's entries outright (a knob: the record is silent).
    w.f.emu.admin.configure({ releasedInstanceRoutes: 'delete' });
    w.f.emu.admin.releaseInstance({ id: w.f.instances[1]!.id });
    w.f.emu.admin.seedInstance({ id: 'i-reborn2', vpcId: FIXTURE.vpcId, privateIps: [w.f.instances[1]!.ip] });
    await store.renew({ ...b, attrs: agentAttrs({ ip: w.f.instances[1]!.ip, instanceId: 'i-reborn2', domain: DOMAIN }) }, forever);
    await controller.reconcileOnce(forever);
    assert.equal(w.ours(FIXTURE.tableId).get(destinationOf(b))?.nextHop, 'i-reborn2');
  });

  test('drift: an entry deleted by hand is repaired; a foreign entry in the Network is reported and untouched', async (t) => {
    const w = await world(3, [FIXTURE.tableId]);
    t.after(() => w.f.close());
    const store = new EtcdLeaseStore({ client: etcd.client, prefix: uniquePrefix('ctl-ali-drift') });
    const controller = new Controller({ config: networkConfig, leases: store, provider: w.provider, status: store, budget: DEFAULT_BUDGET, resyncMs: 60_000, log: silentLogger() });
    const [a, b] = await acquireAll(store, w.hosts(0, 3)) as [Lease, Lease];
    await controller.reconcileOnce(forever);
    // By hand through the API (the console does the same): delete a's and b's entries,
    // then someone adds an entry of their own for b's subnet.
    const listing = await w.provider.listRoutes(FIXTURE.tableId, forever);
    const mine = (l: Lease) => listing.owned.find((r) => r.destination === destinationOf(l))!;
    await w.provider.deleteRoutes(FIXTURE.tableId, [mine(a), mine(b)], forever);
    const foreign = w.f.emu.admin.seedEntry({ tableId: FIXTURE.tableId, destination: destinationOf(b), name: 'someone-else', nextHops: [{ NextHopId: w.f.instances[2]!.id, NextHopType: 'Instance' }] });
    const pass = await controller.reconcileOnce(forever);
    assert.deepEqual(pass.plan.actions.map((x) => `${x.op} ${x.op === 'delete' ? x.route.destination : x.destination}`), [`create ${destinationOf(a)}`]);
    assert.equal(w.ours(FIXTURE.tableId).get(destinationOf(a))?.nextHop, w.f.instances[0]!.id, 'repaired');
    await controller.reconcileOnce(forever);
    assert.equal(((await store.listRouteStatus(forever)).statuses.get(b.key) as { state: string }).state, 'conflict');
    const entry = w.f.emu.admin.entries({ tableId: FIXTURE.tableId }).find((e) => e.id === foreign.id);
    assert.equal(entry?.name, 'someone-else', 'the foreign entry is untouched');
  });
});
