// A controller whose tag selector finds no route table says so (issue 15): a warning
// naming the selector and the near-miss tables, at start and once per resync (not on
// every event-driven pass), /readyz not ready with that reason, and
// tartan_managed_route_tables 0; once the table is tagged right: ready, gauge 1.
// In process against the EC2 emulator, then `tartan controller` with its metrics port.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { Controller } from '../../src/controller/controller.ts';
import { DEFAULT_BUDGET } from '../../src/controller/planner.ts';
import { EtcdLeaseStore } from '../../src/lease/index.ts';
import { Health } from '../../src/observe/health.ts';
import { createLogger } from '../../src/observe/log.ts';
import { createControllerMetrics } from '../../src/observe/metrics.ts';
import { etcdClientFixture, uniquePrefix } from '../support/etcd.ts';
import { freePort } from '../support/ports.ts';
import { type AwsWorld, acquireAll, awsControllerArgs, awsEnv, forever, networkConfig, networkConfigJson, spawnController, startAwsWorld, waitFor } from './controller-kit.ts';

const SELECTOR = 'tag tartan.io/cluster=e2e';

/** A world with no table tagged for the cluster: one tagged the Kubernetes way (a near miss), one of another cluster (not one). */
async function untaggedWorld(): Promise<{ world: AwsWorld; nearMiss: string }> {
  const world = await startAwsWorld({ tables: 0, quota: 50, instances: 2, limits: false });
  const { id } = await world.admin.seedRouteTable({ vpcId: world.vpcId, quota: 50, tags: { 'kubernetes.io/cluster/e2e': 'owned', Name: 'k8s-way' } });
  return { world, nearMiss: id };
}

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(1000) });
    return { status: res.status, body: await res.text() };
  } catch (err) {
    return { status: 0, body: String(err) };
  }
}

describe('a controller managing nothing says so (EC2 emulator)', () => {
  const etcd = etcdClientFixture();

  test('in process: warning once across event-driven passes, not ready with the reason, gauge 0; tagged → ready, gauge 1, routes written', async (t) => {
    const { world, nearMiss } = await untaggedWorld();
    t.after(() => world.close());
    const lines: { level: number; msg: string }[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _e, cb) {
        for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as { level: number; msg: string });
        cb();
      },
    });
    const store = new EtcdLeaseStore({ client: etcd.client, prefix: uniquePrefix('ctl-unmanaged') });
    const provider = world.provider('AKIDUNMANAGED');
    const health = new Health();
    const metrics = createControllerMetrics(() => provider.calls());
    const controller = new Controller({
      config: networkConfig, leases: store, provider, status: store, budget: DEFAULT_BUDGET, resyncMs: 60_000,
      log: createLogger({ destination, level: 'info' }), health, metrics,
    });
    await acquireAll(store, world.hosts());
    const gauge = async (): Promise<number | undefined> => (await metrics.managedTables.get()).values[0]?.value;
    const warnings = (): string[] => lines.filter((l) => l.msg.startsWith('managing no route table')).map((l) => l.msg);

    for (let i = 0; i < 3; i++) await controller.reconcileOnce(forever);
    assert.deepEqual(warnings(), [`managing no route table: no route table matches ${SELECTOR}; similar: ${nearMiss} (kubernetes.io/cluster/e2e=owned)`],
      'one warning for three passes within one resync period, naming the selector and only the near miss');
    const ready = health.readiness('leading');
    assert.equal(ready.status, 503);
    assert.ok(ready.body.includes(`no route table matches ${SELECTOR}`) && ready.body.includes(nearMiss), ready.body);
    assert.equal(await gauge(), 0);

    await world.admin.tagRouteTable({ routeTableId: nearMiss, tags: { 'tartan.io/cluster': 'e2e' } });
    const pass = await controller.reconcileOnce(forever);
    assert.deepEqual(health.readiness('leading'), { status: 200, body: 'ok: leading\n' });
    assert.equal(await gauge(), 1);
    assert.equal(pass.results.filter((r) => r.outcome === 'done').length, 2, 'both leases routed in the table once tagged');
    assert.equal(warnings().length, 1);
  });

  test('tartan controller: /readyz 503 with the reason and the gauge 0 until the table is tagged, then ready and 1', async (t) => {
    const { world, nearMiss } = await untaggedWorld();
    t.after(() => world.close());
    const prefix = uniquePrefix('ctl-unmanaged-cli');
    await etcd.client.put(`${prefix}/config`).value(networkConfigJson).exec();
    const port = await freePort();
    const ctl = spawnController({
      identity: 'unmanaged', env: awsEnv('AKIDUNMANAGEDCLI'),
      args: [...awsControllerArgs(world, { etcd: etcd.endpoint, prefix, quota: 50, resync: '1s' }), '--metrics-port', String(port)],
    });
    t.after(() => ctl.stop('SIGKILL'));
    const details = (): string => ctl.output();
    const startedAt = Date.now();
    const notReady = await waitFor('not ready, naming the selector and the near miss', async () => {
      const r = await get(port, '/readyz');
      return r.status === 503 && r.body.includes(`no route table matches ${SELECTOR}`) ? r.body : undefined;
    }, { timeoutMs: 20_000, details });
    t.diagnostic(`/readyz after ${Date.now() - startedAt} ms: ${notReady.trim()}`);
    assert.ok(notReady.includes(`${nearMiss} (kubernetes.io/cluster/e2e=owned)`), notReady);
    assert.match((await get(port, '/metrics')).body, /^tartan_managed_route_tables 0$/m);
    const warned = (): string[] => ctl.output().split('\n').filter((l) => l.includes('managing no route table'));
    const before = warned().length;
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const inWindow = warned().length - before;
    t.diagnostic(`${inWindow} warnings in 3 s (resync 1 s)`);
    assert.ok(inWindow >= 1 && inWindow <= 4, `a warning per resync, no more: ${inWindow} in 3 s`);
    assert.ok(warned()[0]!.includes(SELECTOR) && warned()[0]!.includes(nearMiss), warned()[0]);

    await world.admin.tagRouteTable({ routeTableId: nearMiss, tags: { 'tartan.io/cluster': 'e2e' } });
    const taggedAt = Date.now();
    await waitFor('ready once the table is tagged', async () => (await get(port, '/readyz')).body === 'ok: leading\n', { timeoutMs: 10_000, details });
    t.diagnostic(`tagged → /readyz 200 after ${Date.now() - taggedAt} ms`);
    assert.match((await get(port, '/metrics')).body, /^tartan_managed_route_tables 1$/m);
    assert.equal(await ctl.stop('SIGTERM'), 0, ctl.output());
  });
});
