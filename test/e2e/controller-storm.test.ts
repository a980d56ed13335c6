// A throttling storm and a 5xx storm from the EC2 emulator (its own process, EC2's
// documented token buckets on) while the controller converges: it gets there, no
// route is created twice, and the emulator's call log never shows more requests
// than the documented buckets let through (mutating 50 + 5/s, describes 100 + 20/s).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Controller } from '../../src/controller/controller.ts';
import { DEFAULT_BUDGET } from '../../src/controller/planner.ts';
import { EtcdLeaseStore, type Lease } from '../../src/lease/index.ts';
import { silentLogger } from '../../src/observe/log.ts';
import { DOCUMENTED_LIMITS } from '../emulators/aws-ec2/limits.ts';
import { etcdClientFixture, uniquePrefix } from '../support/etcd.ts';
import { acquireAll, bucketViolation, destinationOf, dropLease, forever, mutatingCalls, startAwsWorld, waitFor, networkConfig } from './controller-kit.ts';

describe('controller under API storms (EC2 emulator, documented rate limits)', () => {
  const etcd = etcdClientFixture();

  test('throttling storm, then a 5xx storm: converges, nothing twice, never above the documented rate', async (t) => {
    const world = await startAwsWorld({ spawned: true, tables: 2, quota: 200, instances: 36 });
    t.after(() => world.close());
    const store = new EtcdLeaseStore({ client: etcd.client, prefix: uniquePrefix('ctl-storm') });
    // The provider's own rate limits are its defaults; only the backoff is shortened, to keep the test short.
    const provider = world.provider('AKIDSTORM', { retry: { baseMs: 20, maxMs: 400 } });
    const controller = new Controller({ config: networkConfig, leases: store, provider, status: store, budget: DEFAULT_BUDGET, resyncMs: 60_000, log: silentLogger() });
    let failedPasses = 0;
    const converge = async (): Promise<void> => {
      for (let i = 0; i < 12; i++) {
        try {
          const pass = await controller.reconcileOnce(forever);
          if (pass.plan.actions.length === 0 && pass.plan.held.deletions === 0) return;
        } catch {
          failedPasses++; // a describe that failed all its retries fails the pass; nothing was acted on
        }
      }
      throw new Error('did not converge in 12 passes');
    };
    const expectRoutes = async (leases: readonly Lease[]): Promise<void> => {
      const want = leases.map((l, i) => `${destinationOf(l)} ${world.instances[i]?.id ?? ''}`);
      for (const table of world.tables) {
        const got = (await world.admin.routes({ routeTableId: table })).filter((r) => r.origin === 'CreateRoute');
        assert.deepEqual(new Set(got.map((r) => r.destination)), new Set(leases.map(destinationOf)), `${table}: one route per lease, no other`);
        assert.equal(got.length, leases.length);
      }
      assert.ok(want.length > 0);
    };

    // Throttling storm in the middle of the first convergence (60 creates): once
    // the controller's burst is out, EC2 refuses the next 15 route writes.
    let leases = await acquireAll(store, world.hosts(0, 30));
    let t0 = Date.now();
    const converging = converge();
    const created = async () => (await world.admin.calls()).filter((c) => c.action === 'CreateRoute').length;
    await waitFor('the burst', async () => (await created()) >= 30, 20_000);
    await world.admin.injectFaults({ throttle: 15, actions: ['CreateRoute', 'DeleteRoute'] });
    await converging;
    t.diagnostic(`phase A ${Date.now() - t0} ms`);
    await expectRoutes(leases);

    // A 5xx storm (500 InternalError, 503 Unavailable) on every kind of call while
    // 6 hosts leave and 6 join: 12 deletes (the deletion budget spreads them) and 12 creates.
    await world.admin.injectFaults({ serverErrors: 8, unavailable: 8 });
    for (const l of leases.slice(0, 6)) await dropLease(etcd.client, store, l);
    leases = [...leases.slice(6), ...await acquireAll(store, world.hosts(30, 36))];
    t0 = Date.now();
    await converge();
    t.diagnostic(`phase B ${Date.now() - t0} ms`);
    await expectRoutes(leases);
    t.diagnostic(`passes failed by the storm and retried: ${failedPasses}`);

    const calls = await world.admin.calls();
    const codes = (action: string) => calls.filter((c) => c.action === action).reduce<Record<string, number>>((m, c) => ({ ...m, [c.code]: (m[c.code] ?? 0) + 1 }), {});
    assert.equal(calls.filter((c) => c.code === 'RequestLimitExceeded').length, 15, 'throttled only by the injected storm, never by the real buckets');
    assert.equal(calls.filter((c) => c.code === 'InternalError' || c.code === 'Unavailable').length, 16, 'every injected 5xx was met and retried');
    assert.deepEqual(calls.filter((c) => c.code === 'RouteAlreadyExists' || c.code === 'InvalidRoute.NotFound'), [], 'no route created twice or deleted twice');
    // A joining host may get a subnet a leaving one just freed: its route is then replaced, not deleted and created.
    const replaced = codes('ReplaceRoute').ok ?? 0;
    assert.equal(codes('CreateRoute').ok, 72 - replaced, '60 + 12 routes, each created once');
    assert.equal(codes('DeleteRoute').ok, 12 - replaced);
    const { mutating, describe: reads } = DOCUMENTED_LIMITS;
    assert.equal(bucketViolation(mutatingCalls(calls).map((c) => c.time), mutating.capacity, mutating.refillPerSecond), undefined);
    assert.equal(bucketViolation(calls.filter((c) => c.action.startsWith('Describe')).map((c) => c.time), reads.capacity, reads.refillPerSecond), undefined);
    assert.ok(mutatingCalls(calls).length > mutating.capacity, 'the check is only worth something above one bucket');
  });
});
