// Fail static when etcd goes away while controllers run (a private etcd, stopped
// and restarted; the EC2 emulator): nothing is deleted, neither by a
// `tartan controller` process (which cannot be sure it leads any more and exits 4
// for its supervisor to restart) nor by a controller loop running in process
// (whose passes fail until etcd is back). Afterwards both converge again.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Controller } from '../../src/controller/controller.ts';
import { DEFAULT_BUDGET } from '../../src/controller/planner.ts';
import { EtcdLeaseStore, createEtcdClient } from '../../src/lease/index.ts';
import { silentLogger } from '../../src/observe/log.ts';
import { tartanClusterTag } from '../../providers/aws/index.ts';
import { startEtcd, uniquePrefix } from '../support/etcd.ts';
import {
  acquireAll, awsControllerArgs, awsEnv, destinationOf, dropLease, networkConfig, networkConfigJson, spawnController, startAwsWorld, waitFor, within,
} from './controller-kit.ts';

describe('fail static: etcd stopped under running controllers', () => {
  test('no deletion while etcd is gone; converges once it is back', async (t) => {
    const etcd = await startEtcd();
    t.after(() => etcd.destroy());
    const client = createEtcdClient({ endpoints: [etcd.endpoint], dialTimeoutMs: 1000 });
    t.after(() => client.close());
    const world = await startAwsWorld({ tables: 1, quota: 50, instances: 12, limits: false });
    t.after(() => world.close());
    // The in-process controller manages a table of its own, tagged for cluster e2e-b.
    const [cliTable] = world.tables as [string];
    const ownTable = (await world.admin.seedRouteTable({ vpcId: world.vpcId, tags: { 'tartan.io/cluster': 'e2e-b' } })).id;
    const owned = async (table: string) => (await world.admin.routes({ routeTableId: table })).filter((r) => r.origin === 'CreateRoute').map((r) => r.destination).sort();

    const cliPrefix = uniquePrefix('ctl-etcd-cli');
    const cliStore = new EtcdLeaseStore({ client, prefix: cliPrefix });
    await client.put(`${cliPrefix}/config`).value(networkConfigJson).exec();
    const cliLeases = await acquireAll(cliStore, world.hosts(0, 5));
    const args = awsControllerArgs(world, { etcd: etcd.endpoint, prefix: cliPrefix, quota: 50 });
    const cli = spawnController({ identity: 'ctl-cli', args, env: awsEnv('AKIDCLI') });
    t.after(() => cli.stop('SIGKILL'));

    const ownStore = new EtcdLeaseStore({ client, prefix: uniquePrefix('ctl-etcd-inproc') });
    const ownLeases = await acquireAll(ownStore, world.hosts(5, 10));
    const provider = world.provider('AKIDINPROC', { routeTables: { tag: tartanClusterTag('e2e-b') }, retry: { baseMs: 5, maxMs: 50 } });
    const inproc = new Controller({ config: networkConfig, leases: ownStore, provider, status: ownStore, budget: DEFAULT_BUDGET, resyncMs: 300, log: silentLogger() });
    const stop = new AbortController();
    const running = inproc.run(stop.signal);
    t.after(async () => {
      stop.abort();
      await running;
    });

    await waitFor('both converged', async () => (await owned(cliTable)).length === 5 && (await owned(ownTable)).length === 5, 20_000)
      .catch((err: Error) => { throw new Error(`${err.message}\n${cli.output()}`); });
    await etcd.stop();
    const stoppedAt = Date.now();
    await new Promise((r) => setTimeout(r, 200)); // a pass that had listed before the stop may still finish
    const lastGood = inproc.lastPass;
    // The process loses leadership (its keepalive cannot reach etcd) and exits 4.
    assert.equal(await within(cli.exited, 15_000, 'still running'), 4, cli.output());
    await new Promise((r) => setTimeout(r, 1000)); // a few in-process passes fail meanwhile
    assert.ok(lastGood && inproc.lastPass === lastGood, 'no in-process pass completed without etcd');
    assert.deepEqual((await world.admin.calls({ since: stoppedAt })).filter((c) => c.action === 'DeleteRoute'), [], 'nothing deleted');
    assert.equal((await owned(cliTable)).length, 5);
    assert.equal((await owned(ownTable)).length, 5);

    await etcd.restart();
    // The etcd3 client's circuit breaker stays open a few seconds after failures.
    await waitFor('etcd answers', async () => ownStore.list(AbortSignal.timeout(2000)).then(() => true), 20_000);
    // While etcd was away one host left each cluster and one joined.
    await dropLease(client, ownStore, ownLeases[0]!);
    const [joined] = await acquireAll(ownStore, world.hosts(10, 11));
    await dropLease(client, cliStore, cliLeases[0]!);
    const [cliJoined] = await acquireAll(cliStore, world.hosts(11, 12));
    const want = (leases: typeof ownLeases) => leases.map(destinationOf).sort();
    await waitFor('the running loop converged', async () => JSON.stringify(await owned(ownTable)) === JSON.stringify(want([...ownLeases.slice(1), joined!])), 20_000);
    // The supervisor restarts the process; the new one converges too.
    const restarted = spawnController({ identity: 'ctl-cli-2', args, env: awsEnv('AKIDCLI2') });
    t.after(() => restarted.stop('SIGKILL'));
    await waitFor('the restarted process converged', async () => JSON.stringify(await owned(cliTable)) === JSON.stringify(want([...cliLeases.slice(1), cliJoined!])), 20_000)
      .catch((err: Error) => { throw new Error(`${err.message}\n${restarted.output()}`); });
    const deletes = (await world.admin.calls()).filter((c) => c.action === 'DeleteRoute').map((c) => c.params.DestinationCidrBlock).sort();
    assert.deepEqual(deletes, [destinationOf(ownLeases[0]!), destinationOf(cliLeases[0]!)].sort(), 'only the routes of the leases that left');
  });
});
