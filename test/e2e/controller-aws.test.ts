// The controller against the real AWS provider and the EC2 emulator (in process):
// convergence over two tagged tables, lease deleted, host moved.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Controller } from '../../src/controller/controller.ts';
import { DEFAULT_BUDGET } from '../../src/controller/planner.ts';
import { EtcdLeaseStore } from '../../src/lease/index.ts';
import { silentLogger } from '../../src/observe/log.ts';
import { FakeClock } from '../../src/util/fake-clock.ts';
import { etcdClientFixture, uniquePrefix } from '../support/etcd.ts';
import type { Lease } from '../../src/lease/index.ts';
import { acquireAll, agentAttrs, destinationOf, dropLease, forever, mutatingCalls, startAwsWorld, waitFor, networkConfig } from './controller-kit.ts';
import { HEARTBEAT_KEY } from '../../src/lease/route-status.ts';

// hostCacheTtlMs 0: the provider's own host cache (default 30 s) would otherwise
// keep answering a terminated instance's address with the old instance id for
// that long, after the controller dropped it because its route turned blackhole.
const FAST_CLIENT = {
  hostCacheTtlMs: 0,
  rateLimits: { mutating: { capacity: 1000, refillPerSecond: 1000 }, describe: { capacity: 1000, refillPerSecond: 1000 } },
  retry: { baseMs: 5, maxMs: 50 },
};

describe('controller × AWS (EC2 emulator)', () => {
  const etcd = etcdClientFixture();

  test('100 leases converge in both tagged tables; a deleted lease loses its routes; a moved host gets them replaced', async (t) => {
    const world = await startAwsWorld({ tables: 2, quota: 200, instances: 102, limits: false });
    t.after(() => world.close());
    const store = new EtcdLeaseStore({ client: etcd.client, prefix: uniquePrefix('ctl-aws') });
    const provider = world.provider('AKIDAWSE2E', FAST_CLIENT);
    const controller = new Controller({ config: networkConfig, leases: store, provider, status: store, budget: DEFAULT_BUDGET, resyncMs: 60_000, log: silentLogger() });
    const leases = await acquireAll(store, world.hosts(0, 100));
    const routes = async (table: string) => new Map((await world.admin.routes({ routeTableId: table })).filter((r) => r.origin === 'CreateRoute').map((r) => [r.destination, r]));

    await controller.reconcileOnce(forever);
    for (const table of world.tables) {
      const got = await routes(table);
      assert.equal(got.size, 100, `${table} holds one route per lease`);
      for (const [i, l] of leases.entries()) assert.equal(got.get(destinationOf(l))?.target.instanceId, world.instances[i]!.id);
    }
    const second = await controller.reconcileOnce(forever);
    assert.equal(second.plan.actions.length, 0, 'a converged cluster needs no action');
    const status = (await store.listRouteStatus(forever)).statuses;
    assert.equal([...status.values()].filter((s) => (s as { state: string }).state === 'programmed').length, 100);

    // Lease 0 expires; lease 1's instance is replaced by one with the same address;
    // lease 2's host moves to a spare instance (its agent republishes PublicIP).
    await dropLease(etcd.client, store, leases[0]!);
    await world.admin.terminateInstance({ instanceId: world.instances[1]!.id });
    const reborn = await world.admin.seedInstance({ vpcId: world.vpcId, privateIp: world.instances[1]!.ip, sourceDestCheck: false });
    const spare = world.instances[100]!;
    await store.renew({ ...leases[2]!, attrs: agentAttrs({ ip: spare.ip, instanceId: spare.id, domain: world.domain }) }, forever);
    const mark = Date.now();
    await controller.reconcileOnce(forever);
    for (const table of world.tables) {
      const got = await routes(table);
      assert.equal(got.size, 99);
      assert.equal(got.has(destinationOf(leases[0]!)), false, 'the expired lease lost its route');
      assert.equal(got.get(destinationOf(leases[1]!))?.target.instanceId, reborn.id, 'blackhole replaced by the new instance');
      assert.equal(got.get(destinationOf(leases[1]!))?.state, 'active');
      assert.equal(got.get(destinationOf(leases[2]!))?.target.instanceId, spare.id, 'moved host: route replaced');
    }
    const calls = await world.admin.calls({ since: mark });
    const writes = calls.filter((c) => ['CreateRoute', 'DeleteRoute', 'ReplaceRoute'].includes(c.action));
    assert.deepEqual(writes.map((c) => `${c.action} ${c.code}`).sort(), [
      'DeleteRoute ok', 'DeleteRoute ok', 'ReplaceRoute ok', 'ReplaceRoute ok', 'ReplaceRoute ok', 'ReplaceRoute ok',
    ]);
    assert.equal((await controller.reconcileOnce(forever)).plan.actions.length, 0);
    assert.equal((await store.listRouteStatus(forever)).statuses.has(leases[0]!.key), false, 'the expired lease has no route status');
  });

  test('a host replaced while its route was gone: the refused create makes the controller look the host up again', async (t) => {
    const world = await startAwsWorld({ tables: 1, quota: 50, instances: 3, limits: false });
    t.after(() => world.close());
    const [table] = world.tables as [string];
    const store = new EtcdLeaseStore({ client: etcd.client, prefix: uniquePrefix('ctl-aws-rehost') });
    const controller = new Controller({ config: networkConfig, leases: store, provider: world.provider('AKIDREHOST', FAST_CLIENT), status: store, budget: DEFAULT_BUDGET, resyncMs: 60_000, log: silentLogger() });
    const [, b] = await acquireAll(store, world.hosts(0, 3)) as [Lease, Lease];
    await controller.reconcileOnce(forever);
    // No blackhole route tells the controller: the route was removed before the instance went.
    await world.admin.removeRoute({ routeTableId: table, destination: destinationOf(b) });
    await world.admin.terminateInstance({ instanceId: world.instances[1]!.id });
    const reborn = await world.admin.seedInstance({ vpcId: world.vpcId, privateIp: world.instances[1]!.ip, sourceDestCheck: false });
    const refused = await controller.reconcileOnce(forever);
    assert.deepEqual(refused.results.map((r) => `${r.action.op} ${r.outcome}`), ['create error'], 'the cached instance is gone');
    await controller.reconcileOnce(forever);
    const route = (await world.admin.routes({ routeTableId: table })).find((r) => r.destination === destinationOf(b));
    assert.equal(route?.target.instanceId, reborn.id);
  });

  test('a terminated host whose address the provider still maps to it: the blackhole stays pending, never reported programmed', async (t) => {
    const world = await startAwsWorld({ tables: 1, quota: 50, instances: 2, limits: false });
    t.after(() => world.close());
    const [table] = world.tables as [string];
    const store = new EtcdLeaseStore({ client: etcd.client, prefix: uniquePrefix('ctl-aws-stale') });
    // The provider's host cache (30 s by default; 2 s here, on a clock the test moves)
    // answers with the old instance until its TTL is out, and not a millisecond longer.
    const clock = new FakeClock();
    const provider = world.provider('AKIDSTALE', { ...FAST_CLIENT, hostCacheTtlMs: 2000, clock });
    const controller = new Controller({ config: networkConfig, leases: store, provider, status: store, budget: DEFAULT_BUDGET, resyncMs: 60_000, log: silentLogger() });
    const [, b] = await acquireAll(store, world.hosts(0, 2)) as [Lease, Lease];
    await controller.reconcileOnce(forever);
    await world.admin.terminateInstance({ instanceId: world.instances[1]!.id });
    const reborn = await world.admin.seedInstance({ vpcId: world.vpcId, privateIp: world.instances[1]!.ip, sourceDestCheck: false });
    const mark = Date.now();
    const stale = await controller.reconcileOnce(forever);
    assert.deepEqual(stale.plan.actions, [], 'no write that would change nothing');
    assert.equal(((await store.listRouteStatus(forever)).statuses.get(b.key) as { state: string }).state, 'pending', 'agents keep their fallback path');
    await clock.advance(1999);
    assert.deepEqual((await controller.reconcileOnce(forever)).plan.actions, [], 'the cache still answers 1 ms before its TTL');
    assert.deepEqual(mutatingCalls(await world.admin.calls({ since: mark })), []);
    await clock.advance(1);
    await controller.reconcileOnce(forever);
    const route = (await world.admin.routes({ routeTableId: table })).find((r) => r.destination === destinationOf(b));
    assert.deepEqual([route?.target.instanceId, route?.state], [reborn.id, 'active']);
    assert.equal(((await store.listRouteStatus(forever)).statuses.get(b.key) as { state: string }).state, 'programmed');
  });

  test('drift: a route deleted or changed by hand is repaired by the next resync; a foreign route is reported and untouched', async (t) => {
    const world = await startAwsWorld({ tables: 1, quota: 50, instances: 6, limits: false });
    t.after(() => world.close());
    const [table] = world.tables as [string];
    const store = new EtcdLeaseStore({ client: etcd.client, prefix: uniquePrefix('ctl-aws-drift') });
    const controller = new Controller({
      config: networkConfig,
      leases: store, provider: world.provider('AKIDDRIFT', FAST_CLIENT), status: store, budget: DEFAULT_BUDGET, resyncMs: 300, log: silentLogger(),
    });
    const [a, b, c] = await acquireAll(store, world.hosts(0, 5)) as [Lease, Lease, Lease];
    const stop = new AbortController();
    const running = controller.run(stop.signal);
    try {
      const owned = async () => (await world.admin.routes({ routeTableId: table })).filter((r) => r.origin === 'CreateRoute' && r.target.instanceId);
      await waitFor('5 routes', async () => (await owned()).length === 5 && (await store.listRouteStatus(forever)).statuses.size === 5);
      const mark = Date.now();
      // By hand, with no lease event: a's route deleted, b's pointed at another
      // instance, c's replaced by a peering route (someone else's), and a foreign
      // route elsewhere in the Network.
      await world.admin.removeRoute({ routeTableId: table, destination: destinationOf(a) });
      await world.admin.seedRoute({ routeTableId: table, destination: destinationOf(b), target: { instanceId: world.instances[5]!.id } });
      await world.admin.seedRoute({ routeTableId: table, destination: destinationOf(c), target: { vpcPeeringConnectionId: 'pcx-0a1b2c3d4e5f60718' } });
      await world.admin.seedRoute({ routeTableId: table, destination: '10.244.250.0/24', target: { vpcPeeringConnectionId: 'pcx-0a1b2c3d4e5f60718' } });
      await waitFor('a and b repaired', async () => {
        const r = new Map((await owned()).map((x) => [x.destination, x.target.instanceId]));
        return r.get(destinationOf(a)) === world.instances[0]!.id && r.get(destinationOf(b)) === world.instances[1]!.id;
      }, 10_000);
      const status = await waitFor('c reported', async () => {
        const s = (await store.listRouteStatus(forever)).statuses.get(c.key) as { state: string; reason: string } | undefined;
        return s?.state === 'conflict' ? s : undefined;
      }, 10_000);
      assert.match(status.reason, /does not own/);
      // Everything the controller wrote after the drift: exactly the two repairs.
      const calls = await world.admin.calls({ since: mark });
      const writes = calls.filter((x) => ['CreateRoute', 'DeleteRoute', 'ReplaceRoute'].includes(x.action)).map((x) => `${x.action} ${x.params.DestinationCidrBlock}`);
      assert.deepEqual(writes.sort(), [`CreateRoute ${destinationOf(a)}`, `ReplaceRoute ${destinationOf(b)}`].sort());
      const routes = await world.admin.routes({ routeTableId: table });
      for (const d of [destinationOf(c), '10.244.250.0/24']) {
        assert.equal(routes.find((r) => r.destination === d)?.target.vpcPeeringConnectionId, 'pcx-0a1b2c3d4e5f60718', `${d} untouched`);
      }
    } finally {
      stop.abort();
      await running;
    }
  });

  test('overflow: 60 leases on a 50-route table → 50 programmed, 10 overflow, stable across passes and a leader change', async (t) => {
    const world = await startAwsWorld({ tables: 1, quota: 50, instances: 60 });
    t.after(() => world.close());
    const [table] = world.tables as [string];
    const store = new EtcdLeaseStore({ client: etcd.client, prefix: uniquePrefix('ctl-aws-overflow') });
    const leader = (key: string) => new Controller({ config: networkConfig, leases: store, provider: world.provider(key), status: store, budget: DEFAULT_BUDGET, resyncMs: 60_000, log: silentLogger() });
    const leases = await acquireAll(store, world.hosts(0, 60));
    const first = leader('AKIDLEADER1');
    await first.reconcileOnce(forever);
    await first.reconcileOnce(forever);
    const states = async () => new Map([...(await store.listRouteStatus(forever)).statuses].map(([k, v]) => [k, (v as { state: string }).state]));
    const before = await states();
    const overflowed = [...before].filter(([, s]) => s === 'overflow').map(([k]) => k).sort();
    assert.equal([...before.values()].filter((s) => s === 'programmed').length, 50);
    // The newest leases overflow (by etcd create revision), the same on every pass and every leader.
    assert.deepEqual(overflowed, leases.slice(50).map((l) => l.key).sort());
    assert.equal((await world.admin.routes({ routeTableId: table })).filter((r) => r.origin === 'CreateRoute').length, 50);
    // Every status key's revision (the controller's heartbeat beside them is rewritten every pass, by design).
    const revisions = async () => (await etcd.client.getAll().prefix(store.routesPrefix).exec()).kvs
      .filter((kv) => !kv.key.toString().endsWith(`/${HEARTBEAT_KEY}`)).map((kv) => `${kv.key.toString()}@${kv.mod_revision}`).sort();
    const written = await revisions();

    const second = leader('AKIDLEADER2');
    await second.reconcileOnce(forever);
    await second.reconcileOnce(forever);
    const byNewLeader = (await world.admin.calls()).filter((x) => x.accessKeyId === 'AKIDLEADER2');
    assert.ok(byNewLeader.length > 0, 'the new leader looked');
    assert.deepEqual(mutatingCalls(byNewLeader).map((x) => x.action), [], 'the new leader changes nothing');
    assert.deepEqual(await states(), before);
    assert.deepEqual(await revisions(), written, 'no route status rewritten');
    assert.deepEqual((await world.admin.calls()).filter((x) => x.code !== 'ok').map((x) => `${x.action} ${x.code}`), [], 'no RouteLimitExceeded, no throttling');

    // A programmed lease leaves: the oldest overflowed lease takes its place
    // (one pass deletes, the next creates, the third sees it programmed).
    await dropLease(etcd.client, store, leases[0]!);
    for (let i = 0; i < 3; i++) await second.reconcileOnce(forever);
    const after = await states();
    assert.equal(after.get(leases[50]!.key), 'programmed');
    assert.equal([...after.values()].filter((s) => s === 'overflow').length, 9);
  });
});
