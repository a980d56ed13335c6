// The hostile lease set against the controller and the audit (the EC2 emulator,
// real etcd): every hostile record asks for a cloud route (RouteDomain and
// InstanceID of a real instance), none causes a cloud call; the audit names each one
// as invalid (not drift, exit 3); a valid lease written beside them converges as usual.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { audit, deadline, exitCodeFor } from '../../src/audit/index.ts';
import { Controller } from '../../src/controller/controller.ts';
import { DEFAULT_BUDGET } from '../../src/controller/planner.ts';
import { EtcdLeaseStore, encodeLeaseAttrs } from '../../src/lease/index.ts';
import { silentLogger } from '../../src/observe/log.ts';
import { etcdClientFixture, uniquePrefix } from '../support/etcd.ts';
import { acquireAll, agentAttrs, destinationOf, forever, mutatingCalls, networkConfig, networkConfigJson, startAwsWorld } from './controller-kit.ts';

const FAST = { hostCacheTtlMs: 0, rateLimits: { mutating: { capacity: 1000, refillPerSecond: 1000 }, describe: { capacity: 1000, refillPerSecond: 1000 } }, retry: { baseMs: 5, maxMs: 50 } };

describe('hostile leases × controller and audit (EC2 emulator)', () => {
  const etcd = etcdClientFixture();

  test('no cloud call for any of them; audit names each, exit 3; a valid neighbour converges', async (t) => {
    const world = await startAwsWorld({ tables: 1, quota: 50, instances: 12, limits: false });
    t.after(() => world.close());
    const store = new EtcdLeaseStore({ client: etcd.client, prefix: uniquePrefix('ctl-hostile') });
    await etcd.client.put(`${store.prefix}/config`).value(networkConfigJson);
    const hosts = world.hosts();
    const [good] = await acquireAll(store, hosts.slice(0, 1));
    // Each asks for a route to a real instance of the VPC, as a tartan agent there would.
    const hostile: Array<[string, number]> = [
      ['10.0.0.0-24', 1], ['0.0.0.0-0', 2], ['10.244.0.0-16', 3], [`${destinationOf(good!).replace('/24', '').replace(/\.0$/, '.128')}-25`, 4],
      ['10.244.120.0-23', 5], ['10.244.130.7-32', 6], ['10.244.050.0-24', 7], ['10.244.0140.0-24', 8],
      ['10.244.201.0-24', 9], ['10.244.202.0-24', 0],
    ];
    for (const [key, n] of hostile) {
      const attrs = agentAttrs(hosts[n]!);
      const value = key === '10.244.201.0-24' ? { ...attrs, publicIp: '127.0.0.1' } : attrs;
      await etcd.client.put(`${store.subnetsPrefix}${key}`).value(encodeLeaseAttrs(value)).exec();
    }
    const since = Date.now();
    const controller = new Controller({ config: networkConfig, leases: store, provider: world.provider('AKIDHOSTILE', FAST), status: store, budget: DEFAULT_BUDGET, resyncMs: 60_000, log: silentLogger() });
    const pass = await controller.reconcileOnce(forever);
    await controller.reconcileOnce(forever);

    assert.deepEqual(new Set(pass.invalid.map((i) => i.key)), new Set(hostile.map(([k]) => k)), 'every hostile lease is set aside');
    const creates = mutatingCalls(await world.admin.calls({ since }));
    assert.deepEqual(creates.map((c) => c.params.DestinationCidrBlock ?? c.action), [destinationOf(good!)], 'the only cloud write is the valid lease\'s route');
    const status = (await store.listRouteStatus(forever)).statuses;
    assert.deepEqual([...status.keys()], [good!.key], 'no route status for a hostile lease');
    assert.equal(status.get(good!.key)?.state, 'programmed');

    const report = await audit({
      leases: store, config: networkConfig, store: { store: 'etcd test', prefix: store.prefix },
      cloud: world.provider('AKIDHOSTILEAUDIT', FAST), deadline: deadline(20_000, new AbortController().signal),
    });
    assert.deepEqual(report.invalidLeases.map((i) => i.lease).sort(), hostile.map(([k]) => k).sort(), 'the audit names the same leases the controller set aside');
    assert.equal(report.summary.routes.missing, 0, 'invalid leases are not drift');
    assert.equal(report.result, 'invalid');
    assert.equal(exitCodeFor(report), 3);
    const reasons = new Map(report.invalidLeases.map((i) => [i.lease, i.reason]));
    assert.equal(reasons.get('10.244.050.0-24'), 'key');
    assert.equal(reasons.get('10.244.201.0-24'), 'public-ip');
    assert.equal(reasons.get('10.244.202.0-24'), 'public-ip-taken');
    assert.equal(reasons.get('0.0.0.0-0'), 'prefix-length');
  });
});
