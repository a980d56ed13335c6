// Route ownership where the cloud marks routes (GCE, Alibaba; real etcd, the
// controller's ledger beside the mark): the same cases as controller-ownership
// (AWS). The mark stays the rule: a hand-made route in the Network is reported and
// never deleted, across passes and a new leader; a departed lease's route is
// deleted, also by a new leader, and leaves the ledger; a marked route the ledger
// lacks (a leader died between the create and the record) is adopted back with no
// cloud write, and deleted as usual once its lease goes.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Controller } from '../../src/controller/controller.ts';
import { DEFAULT_BUDGET } from '../../src/controller/planner.ts';
import { EtcdLedger } from '../../src/lease/etcd-ledger.ts';
import { EtcdLeaseStore } from '../../src/lease/index.ts';
import { silentLogger } from '../../src/observe/log.ts';
import { etcdClientFixture, uniquePrefix } from '../support/etcd.ts';
import { MARKING_CLOUDS } from './cloud-worlds.ts';
import { acquireAll, destinationOf, dropLease, forever, networkConfig } from './controller-kit.ts';

// Leases take one of the first 100 free /24s; this one is never a lease's.
const HAND_MADE = '10.244.200.0/24';

for (const cloud of MARKING_CLOUDS) {
  describe(`route ownership × ${cloud.name} (ledger in etcd)`, () => {
    const etcd = etcdClientFixture();

    const setup = async (t: { after: (fn: () => unknown) => void }, label: string) => {
      const world = await cloud.start(6);
      t.after(() => world.close());
      const prefix = uniquePrefix(label);
      const store = new EtcdLeaseStore({ client: etcd.client, prefix });
      const ledger = new EtcdLedger({ client: etcd.client, prefix, cluster: world.cluster });
      // A new Controller object is a new leader: nothing is carried over but etcd.
      const leader = () => new Controller({ config: networkConfig, leases: store, provider: world.provider(), status: store, ledger, budget: DEFAULT_BUDGET, resyncMs: 60_000, log: silentLogger() });
      const ledgerKeys = async () => [...(await ledger.listLedger(forever)).values()].map((e) => `${e.table} ${e.destination}`).sort();
      const ledgerRoot = `${prefix}/controller/ledger/${world.cluster}/`;
      return { world, store, ledger, leader, ledgerKeys, ledgerRoot };
    };

    test('a hand-made route in the Network survives 10 passes and a restart, is reported, and no delete reaches the cloud', async (t) => {
      const s = await setup(t, 'own-cloud-hand');
      await acquireAll(s.store, s.world.hosts(0, 2));
      s.world.handMade(HAND_MADE, 5);
      const since = s.world.callCount();
      let ctl = s.leader();
      for (let i = 0; i < 10; i++) {
        if (i === 5) ctl = s.leader();
        const pass = await ctl.reconcileOnce(forever);
        const item = pass.drift.tables[0]!.items.find((x) => x.destination === HAND_MADE);
        assert.equal(item?.kind, 'conflict', `pass ${i}: reported as a conflict`);
      }
      const route = s.world.routes().get(HAND_MADE);
      assert.ok(route && !route.marked, 'the hand-made route is still there, unmarked');
      assert.deepEqual(s.world.writes(since).filter((w) => /delete/i.test(w)), [], 'no delete call at all');
      assert.deepEqual([...s.world.routes().values()].filter((r) => r.marked).length, 2, 'tartan made its two routes');
      assert.equal((await s.ledgerKeys()).length, 2, 'and the ledger records those two only');
    });

    test('a departed lease\'s route is deleted, by the same leader and by a new one, and leaves the ledger', async (t) => {
      const s = await setup(t, 'own-cloud-departed');
      const [a, b, c] = await acquireAll(s.store, s.world.hosts(0, 3));
      const first = s.leader();
      await first.reconcileOnce(forever);
      assert.equal(s.world.routes().size, 3);
      assert.equal((await s.ledgerKeys()).length, 3);
      await dropLease(etcd.client, s.store, c!);
      await first.reconcileOnce(forever);
      assert.equal(s.world.routes().has(destinationOf(c!)), false, 'the same leader deletes it');
      await dropLease(etcd.client, s.store, b!);
      const since = s.world.callCount();
      await s.leader().reconcileOnce(forever); // a new leader between the lease leaving and the delete
      assert.deepEqual([...s.world.routes().keys()], [destinationOf(a!)], 'the departed leases\' routes are gone');
      assert.equal(s.world.writes(since).filter((w) => /delete/i.test(w)).length, 1, 'one delete, by the new leader');
      assert.deepEqual(await s.ledgerKeys(), [`${s.world.table} ${destinationOf(a!)}`], 'their ledger entries went with them');
    });

    test('a marked route missing from the ledger is adopted with no cloud write, and deleted once its lease goes', async (t) => {
      const s = await setup(t, 'own-cloud-adopt');
      const [a, b] = await acquireAll(s.store, s.world.hosts(0, 2));
      await s.leader().reconcileOnce(forever);
      // The leader died between the create and the record: the route is there, marked, but not in the ledger.
      const slug = destinationOf(a!).replace('/', '-');
      const keys = (await etcd.client.getAll().prefix(s.ledgerRoot).keys()).filter((k) => k.endsWith(`/${slug}`));
      assert.equal(keys.length, 1, 'one ledger key for the route');
      await etcd.client.delete().key(keys[0]!).exec();
      assert.equal((await s.ledgerKeys()).length, 1);
      const since = s.world.callCount();
      const ctl = s.leader();
      const pass = await ctl.reconcileOnce(forever);
      assert.deepEqual(pass.plan.actions, [], 'nothing to do');
      assert.deepEqual(s.world.writes(since), [], 'adoption costs no cloud write');
      const entry = (await s.ledger.listLedger(forever)).get(`${s.world.table}/${slug}`);
      assert.equal(entry?.state, 'confirmed', 'adopted back into the ledger');
      assert.ok(s.world.routes().get(destinationOf(a!))?.marked);
      await dropLease(etcd.client, s.store, a!);
      await ctl.reconcileOnce(forever);
      assert.deepEqual([...s.world.routes().keys()], [destinationOf(b!)], 'deleted once its lease is gone');
      assert.deepEqual(await s.ledgerKeys(), [`${s.world.table} ${destinationOf(b!)}`], 'and forgotten');
    });
  });
}
