// `tartan audit` against a real etcd and the EC2 emulator (the real AWS SDK):
// every drift kind seeded by hand through the emulator's admin API, checked in the
// table text, the JSON and the exit code; the emulator's call log shows reads only.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Etcd3 } from 'etcd3';
import { createEtcdClient } from '../../src/lease/index.ts';
import { createAwsProvider } from '../../providers/aws/index.ts';
import type { AwsProvider } from '../../providers/aws/provider.ts';
import { type AwsEmulator, startAwsEmulator } from '../emulators/aws-ec2/emulator.ts';
import { sharedEtcd } from '../support/etcd.ts';
import { key, putStatus, runAudit, seedStore, subnet } from './support.ts';

const READ_ACTIONS = new Set(['DescribeRouteTables', 'DescribeInstances']);

interface World {
  readonly emulator: AwsEmulator;
  readonly vpcId: string;
  /** Instance ids of hosts 1…6 (192.168.0.1…6). */
  readonly instances: string[];
  /** EC2 cannot report a table's quota: the provider is told it (--route-quota), as in production. */
  provider(tables: string[], routeQuota?: number): AwsProvider;
}

async function world(): Promise<World & { close(): Promise<void> }> {
  const emulator = await startAwsEmulator();
  const vpcId = (await emulator.admin.seedVpc({ cidr: '192.168.0.0/16' })).id;
  const instances: string[] = [];
  for (let n = 1; n <= 6; n++) instances.push((await emulator.admin.seedInstance({ vpcId, privateIp: `192.168.0.${n}` })).id);
  const made: AwsProvider[] = [];
  return {
    emulator, vpcId, instances,
    provider: (tables, routeQuota) => {
      const p = createAwsProvider({
        region: 'us-east-1', endpoint: emulator.endpoint, credentials: { accessKeyId: 'AKIDAUDIT', secretAccessKey: 'secret' },
        clusterNetworks: ['10.244.0.0/16'], routeTables: { ids: tables }, retry: { baseMs: 5, maxMs: 50 }, routeQuota,
      });
      made.push(p);
      return p;
    },
    close: async () => {
      for (const p of made) p.close();
      await emulator.close();
    },
  };
}

describe('audit: AWS', () => {
  let etcd: Awaited<ReturnType<typeof sharedEtcd>>;
  let client: Etcd3;
  let w: Awaited<ReturnType<typeof world>>;
  before(async () => {
    etcd = await sharedEtcd();
    client = createEtcdClient({ endpoints: [etcd.endpoint] });
    w = await world();
  });
  after(async () => {
    await w.close();
    client.close();
    await etcd.close();
  });

  const hosts = (count: number) => Array.from({ length: count }, (_, i) => ({ n: i + 1, publicIp: `192.168.0.${i + 1}` }));

  async function table(routes: { n: number; instance: string }[], opts: { name?: string } = {}): Promise<string> {
    const id = (await w.emulator.admin.seedRouteTable({ vpcId: w.vpcId, tags: opts.name ? { Name: opts.name } : {} })).id;
    for (const r of routes) await w.emulator.admin.seedRoute({ routeTableId: id, destination: subnet(r.n), target: { instanceId: r.instance } });
    return id;
  }
  const everyHost = (): { n: number; instance: string }[] => w.instances.map((instance, i) => ({ n: i + 1, instance }));

  test('a clean cluster: three tables in place, status agrees → OK, exit 0, reads only', async () => {
    const store = await seedStore(client, hosts(6));
    const tables = [await table(everyHost(), { name: 'prod-a' }), await table(everyHost()), await table(everyHost())];
    for (let n = 1; n <= 6; n++) await putStatus(store, n, 'programmed', Object.fromEntries(tables.map((t) => [t, 'programmed'])));
    const since = Date.now();
    const provider = w.provider(tables);
    const { text, json, code } = await runAudit(store, provider);
    assert.equal(text.split('\n')[0], 'OK: no drift in 3 tables (6 leases, 6 ok)');
    assert.match(text, new RegExp(`^${tables[0]} \\(prod-a\\) +6/50 +6 +0 +0 +0 +0 +0 +0$`, 'm'));
    assert.equal(code, 0);
    assert.equal(json.result, 'ok');
    assert.deepEqual(json.plan, { actions: [], held: { deletions: 0, reason: null } });
    const calls = await w.emulator.admin.calls({ since });
    assert.ok(calls.length > 0);
    assert.deepEqual(calls.filter((c) => !READ_ACTIONS.has(c.action)).map((c) => c.action), [], 'no mutating call');
    // One host lookup and ONE DescribeRouteTables: it returns every table with its routes,
    // which serves the listings and capacities of all three tables. No per-route calls.
    assert.deepEqual(provider.calls(), { DescribeInstances: { ok: 1 }, DescribeRouteTables: { ok: 1 } });
  });

  test('every drift kind: missing, overflow, wrong next hop, blackhole, stale, foreign conflict', async () => {
    const [i1, i2, i3, i4, i5] = w.instances;
    // Host 4 moved: its old instance was terminated, so its route is a blackhole.
    const dead = (await w.emulator.admin.seedInstance({ vpcId: w.vpcId, privateIp: '192.168.9.4' })).id;
    const leases = [...hosts(6), { n: 7, publicIp: '172.16.0.7' }]; // 7: on-prem, outside the VPC
    const store = await seedStore(client, leases);
    // Quota 6 routes per table. Table a is full, so lease 2 overflows there.
    const a = await table([
      { n: 1, instance: i1! },
      { n: 3, instance: i5! }, // wrong next hop
      { n: 4, instance: dead }, // blackhole once terminated
      { n: 6, instance: w.instances[5]! },
      { n: 99, instance: i1! }, // stale: no lease
    ], { name: 'prod-a' });
    await w.emulator.admin.seedRoute({ routeTableId: a, destination: subnet(5), target: { vpcPeeringConnectionId: 'pcx-0123456789abcdef0' } }); // someone else's
    await w.emulator.admin.terminateInstance({ instanceId: dead });
    const b = await table([1, 3, 4, 5, 6].map((n) => ({ n, instance: w.instances[n - 1]! }))); // lease 2 missing, one place free
    const c = await table(everyHost());
    for (let n = 1; n <= 6; n++) await putStatus(store, n, 'programmed', { [a]: 'programmed', [b]: 'programmed', [c]: 'programmed' });
    await putStatus(store, 42, 'programmed', { [a]: 'programmed' }); // status for a lease that is gone
    const since = Date.now();

    const { text, json, code } = await runAudit(store, w.provider([a, b, c], 6));

    assert.equal(code, 1);
    assert.equal(text.split('\n')[0],
      "DRIFT: 1 missing, 1 overflow, 1 wrong-next-hop, 1 blackhole, 1 stale, 1 conflict in 2 of 3 tables; 6 route status disagreements (7 leases, 3 ok, 1 outside the cloud's network)");
    // The table section: per table used/quota and counts.
    assert.match(text, new RegExp(`^${a} \\(prod-a\\) +6/6 +2 +0 +1 +1 +1 +1 +1$`, 'm'));
    assert.match(text, new RegExp(`^${b} +5/6 +5 +1( +0){5}$`, 'm'));
    assert.match(text, new RegExp(`^${c} +6/6 +6( +0){6}$`, 'm'));
    // The drift rows, with what is wanted and what is there.
    const row = (t: string, n: number, kind: string, want: string, have: string): RegExp =>
      new RegExp(`^${t} +${subnet(n).replace(/\./g, '\\.')} +${kind} +${n === 99 ? '-' : key(n).replace(/\./g, '\\.')} +${want} +${have}$`, 'm');
    assert.match(text, row(a, 2, 'overflow', i2!, '-'));
    assert.match(text, row(a, 3, 'wrong-next-hop', i3!, i5!));
    assert.match(text, row(a, 4, 'blackhole', i4!, `${dead} \\(blackhole\\)`));
    assert.match(text, row(a, 5, 'conflict', i5!, "- not tartan's"));
    assert.match(text, row(a, 99, 'stale', '-', i1!));
    assert.match(text, row(b, 2, 'missing', i2!, '-'));
    assert.match(text, new RegExp(`^10\\.244\\.2\\.0-24 +mismatch +${b} +programmed +pending +${b}: status says programmed, but the route is missing$`, 'm'));
    assert.match(text, new RegExp(`^10\\.244\\.2\\.0-24 +mismatch +${a} +programmed +overflow +${a}: status says programmed, but the route is not there \\(the table is full\\)$`, 'm'));
    assert.match(text, /^10\.244\.42\.0-24 +orphan +- +programmed +- +route status for a lease that no longer exists$/m);

    // The JSON: the same facts, machine-readable.
    assert.equal(json.schemaVersion, 1);
    assert.equal(json.result, 'drift');
    assert.deepEqual(json.summary.routes, { ok: 13, missing: 1, overflow: 1, 'wrong-next-hop': 1, blackhole: 1, stale: 1, conflict: 1 });
    assert.deepEqual(json.outOfDomain, [key(7)]);
    assert.deepEqual(json.tables.find((t) => t.id === a)!.capacity, { used: 6, quota: 6, free: 0 });
    const byKind = Object.fromEntries(json.tables.find((t) => t.id === a)!.drift.map((d) => [d.kind, d]));
    assert.deepEqual(byKind['wrong-next-hop'], {
      table: a, destination: subnet(3), kind: 'wrong-next-hop', lease: key(3),
      want: { kind: 'instance', id: i3 }, have: { nextHop: { kind: 'instance', id: i5 }, state: 'active', owned: true },
    });
    assert.deepEqual(byKind.blackhole!.have, { nextHop: { kind: 'instance', id: dead }, state: 'blackhole', owned: true });
    assert.deepEqual(byKind.conflict!.have, { nextHop: null, state: 'active', owned: false });
    assert.equal(byKind.stale!.lease, null);
    assert.deepEqual(json.subnets.find((s) => s.lease === key(2))!.problems.slice(0, 2), [`${a}: overflow`, `${b}: missing`]);
    assert.deepEqual(json.statusDisagreements.filter((d) => d.lease === key(5)).map((d) => [d.table, d.published, d.observed]), [[a, 'programmed', 'conflict']]);

    // --plan: the controller's planner; nothing was done.
    assert.deepEqual(json.plan!.actions.map((x) => `${x.op} ${x.table} ${x.destination}`).sort(), [
      `create ${b} ${subnet(2)}`, `delete ${a} ${subnet(99)}`, `replace ${a} ${subnet(3)}`, `replace ${a} ${subnet(4)}`,
    ]);
    assert.match(text, new RegExp(`^delete +${a} +10\\.244\\.99\\.0/24 +was ${i1}$`, 'm'));
    const calls = await w.emulator.admin.calls({ since });
    assert.deepEqual([...new Set(calls.map((x) => x.action))].sort(), ['DescribeInstances', 'DescribeRouteTables'], 'reads only');
    assert.deepEqual((await w.emulator.admin.routes({ routeTableId: a })).map((r) => `${r.destination} ${r.state}`).sort(), [
      '10.244.1.0/24 active', '10.244.3.0/24 active', '10.244.4.0/24 blackhole', '10.244.5.0/24 active', '10.244.6.0/24 active',
      '10.244.99.0/24 active', '192.168.0.0/16 active',
    ], 'nothing changed');
  });

  test('an unreadable lease is drift; its route is protected in the plan (fail static)', async () => {
    const store = await seedStore(client, hosts(2));
    await client.put(`${store.subnetsPrefix}${key(3)}`).value('{not json');
    const t = await table([{ n: 1, instance: w.instances[0]! }, { n: 2, instance: w.instances[1]! }, { n: 3, instance: w.instances[2]! }]);
    for (const n of [1, 2]) await putStatus(store, n, 'programmed', { [t]: 'programmed' });
    const { text, json, code } = await runAudit(store, w.provider([t]));
    assert.equal(code, 1);
    assert.equal(text.split('\n')[0], 'DRIFT: 1 stale in 1 of 1 table; 1 unreadable lease (2 leases, 2 ok)');
    assert.match(json.unreadableLeases[0]!.error, /lease 10\.244\.3\.0-24: value is not JSON/);
    assert.deepEqual(json.plan, { actions: [], held: { deletions: 1, reason: 'the lease value does not parse (fail static)' } });
  });

  test('a table that does not exist: the audit could not be done', async () => {
    const store = await seedStore(client, hosts(1));
    await assert.rejects(runAudit(store, w.provider(['rtb-0000000000000dead'])), (err: Error) => {
      assert.equal(err.name, 'CouldNotAuditError');
      assert.match(err.message, /^reading the route tables from the aws API: describe route tables rtb-0000000000000dead: .*does not exist/);
      return true;
    });
  });

  test('a tag that selects no table: the audit could not be done (not "no drift")', async () => {
    const store = await seedStore(client, hosts(1));
    const p = createAwsProvider({
      region: 'us-east-1', endpoint: w.emulator.endpoint, credentials: { accessKeyId: 'AKIDAUDIT', secretAccessKey: 'secret' },
      clusterNetworks: ['10.244.0.0/16'], routeTables: { tag: { key: 'tartan.io/cluster', value: 'nobody' } },
    });
    try {
      await assert.rejects(runAudit(store, p), /^CouldNotAuditError: the aws API found no managed route table/);
    } finally {
      p.close();
    }
  });
});
