// What deploy/ ships is the bundle `npm run build` makes (scripts/build.ts), not the
// TypeScript source every other test runs. Built into a temporary folder, it runs
// `tartan controller` against etcd and the EC2 emulator and converges, and its
// other commands load: a bundling mistake (a missing chunk, an external that is
// not installed, a CommonJS require the bundle cannot serve) fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildCli } from '../../scripts/build.ts';
import { EtcdLeaseStore } from '../../src/lease/index.ts';
import { etcdClientFixture, uniquePrefix } from '../support/etcd.ts';
import { acquireAll, awsControllerArgs, awsEnv, networkConfigJson, spawnController, startAwsWorld, waitFor } from './controller-kit.ts';

const LEASES = 20;
const etcd = etcdClientFixture();

test('the built bundle: tartan controller converges 20 leases on the EC2 emulator; every command loads', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tartan-built-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const main = await buildCli(join(dir, 'dist'));
  // The externals load from node_modules, as in deploy/image.
  symlinkSync(fileURLToPath(new URL('../../node_modules', import.meta.url)), join(dir, 'node_modules'));

  for (const command of ['agent', 'controller', 'audit', 'docker-opts']) {
    const help = spawnSync(process.execPath, [main, command, '--help'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(help.status, 0, `${command} --help: ${help.stderr}`);
    assert.match(help.stdout, new RegExp(`Usage: tartan ${command}`));
  }

  const world = await startAwsWorld({ tables: 1, quota: 100, instances: LEASES });
  t.after(() => world.close());
  const [table] = world.tables as [string];
  const prefix = uniquePrefix('ctl-built');
  await etcd.client.put(`${prefix}/config`).value(networkConfigJson).exec();
  await acquireAll(new EtcdLeaseStore({ client: etcd.client, prefix }), world.hosts());
  // A roomy TTL: this test is about the bundle converging, not about elections (a 2 s TTL was
  // lost on a machine busy enough to delay one etcd keepalive by 1.3 s).
  const ctl = spawnController({ identity: 'ctl-built', main, args: awsControllerArgs(world, { etcd: etcd.endpoint, prefix, quota: 100, ttl: '10s' }), env: awsEnv('AKIDBUILT') });
  t.after(() => ctl.stop('SIGKILL'));
  await waitFor(`${LEASES} routes`, async () =>
    (await world.admin.routes({ routeTableId: table })).filter((r) => r.origin === 'CreateRoute').length === LEASES, 30_000).catch((err: Error) => {
    throw new Error(`${err.message}\n${ctl.output()}`);
  });
});
