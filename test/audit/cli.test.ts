// `tartan audit` as a process (node src/cli/main.ts audit …) against a real etcd
// and the EC2 emulator: exit codes end to end, the summary line first, JSON on
// stdout, reasons on stderr.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import type { Etcd3 } from 'etcd3';
import { createEtcdClient, type EtcdLeaseStore } from '../../src/lease/index.ts';
import { type AwsEmulator, startAwsEmulator } from '../emulators/aws-ec2/emulator.ts';
import { sharedEtcd } from '../support/etcd.ts';
import { freePort } from '../support/ports.ts';
import { type CliRun, auditCli, putStatus, seedMac, seedStore, subnet } from './support.ts';

const tartan = (args: readonly string[]): Promise<CliRun> => auditCli(args, { AWS_ACCESS_KEY_ID: 'AKIDCLI', AWS_SECRET_ACCESS_KEY: 'secret', TARTAN_TEST_ETCD: undefined });

describe('tartan audit (the CLI, as a process)', () => {
  let etcd: Awaited<ReturnType<typeof sharedEtcd>>;
  let client: Etcd3;
  let emulator: AwsEmulator;
  let store: EtcdLeaseStore;
  let table: string;
  let flags: string[];
  before(async () => {
    etcd = await sharedEtcd();
    client = createEtcdClient({ endpoints: [etcd.endpoint] });
    emulator = await startAwsEmulator();
    const vpcId = (await emulator.admin.seedVpc({ cidr: '192.168.0.0/16' })).id;
    table = (await emulator.admin.seedRouteTable({ vpcId, tags: { 'tartan.io/cluster': 'cli' } })).id;
    // Hosts of the emulator's VPC, and their statuses where that VPC's controller writes them.
    const domain = `aws:${vpcId}`;
    store = await seedStore(client, [1, 2].map((n) => ({ n, publicIp: `192.168.0.${n}`, backendData: { VNI: 1, VtepMAC: seedMac(n), RouteDomain: domain } })));
    for (const n of [1, 2]) {
      const instanceId = (await emulator.admin.seedInstance({ vpcId, privateIp: `192.168.0.${n}` })).id;
      await emulator.admin.seedRoute({ routeTableId: table, destination: subnet(n), target: { instanceId } });
      await putStatus(store.routeStatusFor(domain), n, 'programmed', { [table]: 'programmed' });
    }
    flags = [
      '--etcd-endpoints', etcd.endpoint, '--etcd-prefix', store.prefix,
      '--cloud-endpoint', emulator.endpoint, '--region', 'us-east-1', '--cluster-name', 'cli',
    ];
  });
  after(async () => {
    await emulator.close();
    client.close();
    await etcd.close();
  });

  test('clean: exit 0, the summary line first, no colour when stdout is not a terminal', async () => {
    const r = await tartan(flags);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.split('\n')[0], 'OK: no drift in 1 table (2 leases, 2 ok)');
    assert.doesNotMatch(r.stdout, /\u001b\[/);
    assert.deepEqual((await emulator.admin.calls()).filter((c) => !c.action.startsWith('Describe')), [], 'reads only');
  });

  test('drift: exit 1; --output json parses; --plan lists the repair', async () => {
    await emulator.admin.removeRoute({ routeTableId: table, destination: subnet(2) });
    const r = await tartan([...flags, '--output', 'json', '--plan']);
    assert.equal(r.code, 1, r.stderr);
    const report = JSON.parse(r.stdout) as { schemaVersion: number; result: string; summary: { routes: { missing: number } }; plan: { actions: { op: string; destination: string }[] } };
    assert.equal(report.schemaVersion, 1);
    assert.equal(report.result, 'drift');
    assert.equal(report.summary.routes.missing, 1);
    assert.deepEqual(report.plan.actions.map((a) => [a.op, a.destination]), [['create', subnet(2)]]);
    assert.equal((await emulator.admin.routes({ routeTableId: table })).length, 2, 'nothing was created: the local route + 1');
  });

  test('etcd refuses connections: exit 2 with the reason on stderr (and an error report with --output json)', async () => {
    const port = await freePort();
    const r = await tartan(['--etcd-endpoints', `http://127.0.0.1:${port}`, '--provider', 'none', '--output', 'json']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`^tartan audit: could not audit: reading the (leases|route status|network config) from etcd http://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`, 'm'));
    const report = JSON.parse(r.stdout) as { result: string; error: { source: string } };
    assert.deepEqual([report.result, report.error.source], ['error', 'etcd']);
  });

  test('etcd accepts but never answers: exit 2 after --timeout', async () => {
    const sockets = new Set<Socket>();
    const silent: Server = createServer((s) => { sockets.add(s); });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    try {
      const started = Date.now();
      const r = await tartan(['--etcd-endpoints', `http://127.0.0.1:${port}`, '--timeout', '1s']);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /^tartan audit: could not audit: reading the network config from etcd http:\/\/127\.0\.0\.1:\d+: no answer within 1s \(--timeout\)$/m);
      assert.ok(Date.now() - started < 30_000, 'bounded');
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  test('--help lists the flags but not the hidden --netns; a bad flag is exit 2', async () => {
    const help = await tartan(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--plan/);
    assert.match(help.stdout, /TARTAN_TIMEOUT/);
    assert.doesNotMatch(help.stdout, /--netns/);
    const bad = await tartan(['--output', 'yaml']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--output: must be one of table, json/);
  });
});
