// Route ownership is recorded, not guessed (the EC2 emulator, real etcd, the
// controller's ledger in etcd). EC2 cannot mark a route, so before the ledger every
// hand-made route to an instance inside the Network counted as tartan's and was
// deleted as stale. Now: a hand-made route survives passes and restarts and is
// reported; a departed lease's route is still deleted, across a restart; a route
// made by a leader that died before recording it is adopted when its lease is
// there and reported (never deleted) when not; a foreign /25 inside a lease makes
// the lease `conflict` whichever appeared first.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { audit, deadline } from '../../src/audit/index.ts';
import { Controller } from '../../src/controller/controller.ts';
import { DEFAULT_BUDGET } from '../../src/controller/planner.ts';
import { EtcdLedger } from '../../src/lease/etcd-ledger.ts';
import { EtcdLeaseStore } from '../../src/lease/index.ts';
import { silentLogger } from '../../src/observe/log.ts';
import { etcdClientFixture, uniquePrefix } from '../support/etcd.ts';
import { type AwsWorld, acquireAll, destinationOf, dropLease, forever, mutatingCalls, networkConfig, startAwsWorld } from './controller-kit.ts';

const FAST = { hostCacheTtlMs: 0, rateLimits: { mutating: { capacity: 1000, refillPerSecond: 1000 }, describe: { capacity: 1000, refillPerSecond: 1000 } }, retry: { baseMs: 5, maxMs: 50 } };

describe('route ownership × AWS (EC2 emulator, ledger in etcd)', () => {
  const etcd = etcdClientFixture();

  const setup = async (t: { after: (fn: () => unknown) => void }, label: string) => {
    const world = await startAwsWorld({ tables: 1, quota: 50, instances: 6, limits: false });
    t.after(() => world.close());
    const prefix = uniquePrefix(label);
    const store = new EtcdLeaseStore({ client: etcd.client, prefix });
    const ledger = new EtcdLedger({ client: etcd.client, prefix, cluster: 'e2e' });
    // A new Controller object is a new leader: nothing is carried over but etcd.
    const leader = (key: string) => new Controller({ config: networkConfig, leases: store, provider: world.provider(key, FAST), status: store, ledger, budget: DEFAULT_BUDGET, resyncMs: 60_000, log: silentLogger() });
    const table = world.tables[0]!;
    const routes = async () => new Map((await world.admin.routes({ routeTableId: table })).filter((r) => r.target.instanceId).map((r) => [r.destination, r.target.instanceId]));
    return { world, store, ledger, leader, table, routes };
  };

  const handMade = (world: AwsWorld, table: string, destination: string, instance: number) =>
    world.admin.seedRoute({ routeTableId: table, destination, target: { instanceId: world.instances[instance]!.id } });

  test('a hand-made route in the Network survives 10 passes and a restart, and is reported', async (t) => {
    const s = await setup(t, 'own-hand');
    await acquireAll(s.store, s.world.hosts(0, 2));
    await handMade(s.world, s.table, '10.244.7.0/24', 5);
    const since = Date.now();
    let ctl = s.leader('AKIDOWN1');
    for (let i = 0; i < 10; i++) {
      if (i === 5) ctl = s.leader('AKIDOWN2');
      const pass = await ctl.reconcileOnce(forever);
      const item = pass.drift.tables[0]!.items.find((x) => x.destination === '10.244.7.0/24');
      assert.equal(item?.kind, 'conflict', `pass ${i}: reported as a conflict`);
    }
    assert.equal((await s.routes()).get('10.244.7.0/24'), s.world.instances[5]!.id, 'the hand-made route is still there');
    assert.deepEqual(mutatingCalls(await s.world.admin.calls({ since })).filter((c) => c.action === 'DeleteRoute'), [], 'no DeleteRoute at all');
    const report = await audit({
      leases: s.store, config: networkConfig, ledger: s.ledger, store: { store: 'etcd', prefix: s.store.prefix },
      cloud: s.world.provider('AKIDOWNAUDIT', FAST), plan: { budget: DEFAULT_BUDGET }, deadline: deadline(20_000, new AbortController().signal),
    });
    assert.deepEqual(report.tables[0]!.drift.map((d) => [d.destination, d.kind]), [['10.244.7.0/24', 'conflict']], 'the audit agrees: a conflict, not stale');
    assert.deepEqual(report.plan?.actions, [], 'and plans no repair');
  });

  test('a departed lease\'s route is deleted, also when the leader changes between the lease leaving and the delete', async (t) => {
    const s = await setup(t, 'own-departed');
    const [a, b] = await acquireAll(s.store, s.world.hosts(0, 2));
    await s.leader('AKIDDEP1').reconcileOnce(forever);
    assert.equal((await s.routes()).size, 2);
    await dropLease(etcd.client, s.store, b!);
    await s.leader('AKIDDEP2').reconcileOnce(forever); // a new leader: only the ledger remembers the route was ours
    assert.deepEqual([...(await s.routes()).keys()], [destinationOf(a!)], 'the departed lease\'s route is gone');
    assert.equal((await s.ledger.listLedger(forever)).size, 1, 'its ledger entry went with it');
  });

  test('a leader that died before recording: the route is adopted while its lease is there, reported once it is not', async (t) => {
    const s = await setup(t, 'own-adopt');
    const [a] = await acquireAll(s.store, s.world.hosts(0, 1));
    // The route exists exactly as the lease wants it, but no ledger entry says so.
    await handMade(s.world, s.table, destinationOf(a!), 0);
    const since = Date.now();
    await s.leader('AKIDADOPT1').reconcileOnce(forever);
    assert.equal((await s.ledger.listLedger(forever)).size, 1, 'adopted into the ledger');
    assert.deepEqual(mutatingCalls(await s.world.admin.calls({ since })), [], 'adoption costs no cloud call');
    // The same, for a route whose lease is gone: not ours to delete.
    await handMade(s.world, s.table, '10.244.9.0/24', 3);
    const pass = await s.leader('AKIDADOPT2').reconcileOnce(forever);
    assert.equal(pass.drift.tables[0]!.items.find((x) => x.destination === '10.244.9.0/24')?.kind, 'conflict');
    assert.ok((await s.routes()).has('10.244.9.0/24'), 'never deleted blindly');
  });

  test('two clusters share one route table: each owns only what its own ledger (or its own leases) says', async (t) => {
    const s = await setup(t, 'own-two-a');
    const [a] = await acquireAll(s.store, s.world.hosts(0, 1));
    await s.leader('AKIDTWOA').reconcileOnce(forever);
    // Cluster B: its own etcd prefix, ledger and cluster name, the same VPC table, no lease of its own.
    const prefixB = uniquePrefix('own-two-b');
    const storeB = new EtcdLeaseStore({ client: etcd.client, prefix: prefixB });
    const ledgerB = new EtcdLedger({ client: etcd.client, prefix: prefixB, cluster: 'other' });
    const since = Date.now();
    const b = new Controller({ config: networkConfig, leases: storeB, provider: s.world.provider('AKIDTWOB', FAST), status: storeB, ledger: ledgerB, budget: DEFAULT_BUDGET, resyncMs: 60_000, log: silentLogger() });
    for (let i = 0; i < 3; i++) {
      const pass = await b.reconcileOnce(forever);
      assert.equal(pass.drift.tables[0]!.items.find((x) => x.destination === destinationOf(a!))?.kind, 'conflict', 'cluster A\'s route is foreign to B');
    }
    assert.deepEqual(mutatingCalls(await s.world.admin.calls({ since })), [], 'B writes nothing');
    assert.ok((await s.routes()).has(destinationOf(a!)), 'A\'s route survives B');
    assert.equal((await ledgerB.listLedger(forever)).size, 0, 'B records nothing of A\'s');
  });

  test('a foreign /25 inside a lease: the same status and plan whichever came first', async (t) => {
    const s = await setup(t, 'own-shadow');
    const [a, b] = await acquireAll(s.store, s.world.hosts(0, 2));
    const half = (l: NonNullable<typeof a>) => destinationOf(l).replace(/\.0\/24$/, '.128/25');
    // a: the foreign /25 before tartan's route; b: after.
    await s.world.admin.seedRoute({ routeTableId: s.table, destination: half(a!), target: { gatewayId: 'igw-0123456789abcdef0' } });
    const ctl = s.leader('AKIDSHADOW');
    await ctl.reconcileOnce(forever);
    await s.world.admin.seedRoute({ routeTableId: s.table, destination: half(b!), target: { gatewayId: 'igw-0123456789abcdef0' } });
    const pass = await ctl.reconcileOnce(forever);
    assert.deepEqual(pass.plan.actions, [], 'nothing to do in either order');
    const statuses = (await s.store.listRouteStatus(forever)).statuses;
    for (const l of [a!, b!]) {
      const st = statuses.get(l.key);
      assert.equal(st?.state, 'conflict', `${l.key}: conflict`);
      assert.match(st?.reason ?? '', new RegExp(`${half(l).replace(/\./g, '\\.')} → .* takes 50% of it`));
      assert.ok((await s.routes()).has(destinationOf(l)), `${l.key}: tartan keeps its own /24`);
    }
  });
});
