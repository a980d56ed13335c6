// Two `tartan controller` processes against one etcd and the EC2 emulator: exactly
// one acts; SIGKILL the leader mid-work and the other takes over within the TTL
// plus one pass, with no route created twice and none deleted; a leader whose key
// disappears exits 4. Each replica has its own access key, so the emulator's call
// log says who did what.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EtcdLeaseStore } from '../../src/lease/index.ts';
import { etcdClientFixture, uniquePrefix } from '../support/etcd.ts';
import {
  type ControllerProcess, acquireAll, awsControllerArgs, awsEnv, awsLeaderKey, createsPerRoute, destinationOf, mutatingCalls, networkConfigJson,
  spawnController, startAwsWorld, waitFor, within,
} from './controller-kit.ts';

const TTL_MS = 2000;
const LEASES = 100;

describe('two controller processes (leader election on etcd, EC2 emulator)', () => {
  const etcd = etcdClientFixture();

  test('one acts; SIGKILL the leader mid-work → the other takes over, nothing created twice or deleted; key deleted → exit 4', async (t) => {
    const world = await startAwsWorld({ tables: 1, quota: 1000, instances: LEASES });
    t.after(() => world.close());
    const [table] = world.tables as [string];
    const prefix = uniquePrefix('ctl-ha');
    const store = new EtcdLeaseStore({ client: etcd.client, prefix });
    await etcd.client.put(`${prefix}/config`).value(networkConfigJson).exec();
    const leases = await acquireAll(store, world.hosts());
    const args = awsControllerArgs(world, { etcd: etcd.endpoint, prefix, quota: 1000 });
    const replicas = new Map<string, ControllerProcess>();
    for (const identity of ['ctl-a', 'ctl-b']) replicas.set(identity, spawnController({ identity, args, env: awsEnv(`AKID${identity.toUpperCase().replace('-', '')}`) }));
    t.after(async () => {
      for (const r of replicas.values()) await r.stop('SIGKILL');
    });
    const keyOf = (identity: string) => `AKID${identity.toUpperCase().replace('-', '')}`;
    const leaderKey = awsLeaderKey(world, prefix);
    const describeOutput = () => [...replicas.values()].map((r) => `--- ${r.identity}\n${r.output()}`).join('\n');

    const first = await waitFor('a leader', async () => (await etcd.client.get(leaderKey).string()) ?? undefined, 20_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${describeOutput()}`);
    });
    const standby = first === 'ctl-a' ? 'ctl-b' : 'ctl-a';
    // Kill the leader while it is still creating: past EC2's burst of 50, paced at 5/s.
    const createdBy = async (identity: string) => (await world.admin.calls()).filter((c) => c.accessKeyId === keyOf(identity) && c.action === 'CreateRoute' && c.code === 'ok').length;
    await waitFor('the leader past its burst', async () => (await createdBy(first)) >= 55, 20_000);
    const before = await world.admin.calls();
    assert.deepEqual(before.filter((c) => c.accessKeyId === keyOf(standby)).map((c) => c.action), [], 'the standby makes no cloud call at all');
    await replicas.get(first)!.stop('SIGKILL');
    const killedAt = Date.now();
    assert.ok(await createdBy(first) < LEASES, 'killed mid-work');

    await waitFor('the standby leads', async () => (await etcd.client.get(leaderKey).string()) === standby, 10_000);
    await waitFor('every route', async () => (await world.admin.routes({ routeTableId: table })).filter((r) => r.origin === 'CreateRoute').length === LEASES, 20_000);
    const calls = await world.admin.calls();
    const firstByStandby = Math.min(...calls.filter((c) => c.accessKeyId === keyOf(standby)).map((c) => c.time));
    t.diagnostic(`takeover: first call of the new leader ${firstByStandby - killedAt} ms after SIGKILL (TTL ${TTL_MS} ms)`);
    // The old key expires within the TTL; the standby polls every TTL/5 and its first pass starts at once.
    assert.ok(firstByStandby - killedAt < TTL_MS + 3000, `takeover took ${firstByStandby - killedAt} ms`);
    const writes = mutatingCalls(calls).filter((c) => c.action !== 'ModifyInstanceAttribute');
    assert.ok(writes.filter((c) => c.accessKeyId === keyOf(first)).every((c) => c.time <= killedAt), 'the old leader wrote nothing after it died');
    assert.ok(writes.filter((c) => c.accessKeyId === keyOf(standby)).every((c) => c.time > killedAt), 'the standby wrote nothing while the leader lived');
    assert.deepEqual(writes.filter((c) => c.action !== 'CreateRoute' || c.code !== 'ok').map((c) => `${c.action} ${c.code}`), [], 'no RouteAlreadyExists, no delete, no replace');
    const creates = createsPerRoute(calls);
    assert.equal(creates.size, LEASES);
    assert.ok([...creates.values()].every((n) => n === 1), 'each route created once');
    const routes = new Map((await world.admin.routes({ routeTableId: table })).map((r) => [r.destination, r.target.instanceId]));
    for (const [i, l] of leases.entries()) assert.equal(routes.get(destinationOf(l)), world.instances[i]!.id);
    await waitFor('route status programmed', async () => {
      const s = (await store.routeStatusFor(world.domain).listRouteStatus(AbortSignal.timeout(5000))).statuses;
      return s.size === LEASES && [...s.values()].every((v) => (v as { state: string }).state === 'programmed');
    }, 10_000);

    // Someone deletes the leader key: the leader can no longer be sure it leads and exits 4.
    await etcd.client.delete().key(leaderKey).exec();
    const code = await within(replicas.get(standby)!.exited, 10_000, 'still running');
    assert.equal(code, 4, replicas.get(standby)!.output());
    assert.match(replicas.get(standby)!.output(), /leadership lost/);
    assert.equal(mutatingCalls(await world.admin.calls()).filter((c) => c.action === 'DeleteRoute').length, 0);
  });
});
