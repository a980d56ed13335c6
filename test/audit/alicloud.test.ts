// `tartan audit` against a real etcd and the Alibaba Cloud VPC emulator (the real
// SDK): a clean table, then a wrong next hop and a foreign conflict. Hosts resolve
// from the InstanceID their agents published in BackendData (hybrid mode).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Etcd3 } from 'etcd3';
import { createEtcdClient } from '../../src/lease/index.ts';
import { markerFor } from '../../providers/alicloud/index.ts';
import { type AlicloudFixture, FAST, FIXTURE, startAlicloudFixture } from '../emulators/alicloud/fixture.ts';
import { sharedEtcd } from '../support/etcd.ts';
import { putStatus, runAudit, seedStore, subnet } from './support.ts';

const READ_ACTIONS = new Set(['DescribeRouteTableList', 'DescribeRouteEntryList']);

describe('audit: Alibaba Cloud', () => {
  let etcd: Awaited<ReturnType<typeof sharedEtcd>>;
  let client: Etcd3;
  let f: AlicloudFixture;
  before(async () => {
    etcd = await sharedEtcd();
    client = createEtcdClient({ endpoints: [etcd.endpoint] });
    f = await startAlicloudFixture({ emulator: FAST.emulator, provider: FAST.provider });
  });
  after(async () => {
    await f.close();
    client.close();
    await etcd.close();
  });

  const marker = markerFor(FIXTURE.clusterName);
  const tartanEntry = (n: number, instance: string): void => {
    f.emu.admin.seedEntry({ tableId: f.tableId, destination: subnet(n), ...marker, nextHops: [{ NextHopId: instance, NextHopType: 'Instance' }] });
  };
  /** Leases 1…3 on the fixture's instances, each naming its instance as the hybrid agent does. */
  const leases = () => f.instances.map((inst, i) => ({ n: i + 1, publicIp: inst.ip, backendData: { VNI: 1, VtepMAC: `0e:00:00:00:00:0${i + 1}`, RouteDomain: 'ali:vpc-fixture', InstanceID: inst.id } }));

  test('clean: every lease routed, status agrees → OK, exit 0, reads only', async () => {
    const store = await seedStore(client, leases(), { Type: 'ali-vpc' });
    f.instances.forEach((inst, i) => tartanEntry(i + 1, inst.id));
    for (const n of [1, 2, 3]) await putStatus(store, n, 'programmed', { [f.tableId]: 'programmed' });
    f.emu.admin.clearCalls();
    const { text, json, code } = await runAudit(store, f.makeProvider());
    assert.equal(text.split('\n')[0], 'OK: no drift in 1 table (3 leases, 3 ok)');
    assert.match(text, /^vtb-tartan \(tartan\) +3\/200 +3( +0){6}$/m);
    assert.equal(code, 0);
    assert.equal(json.result, 'ok');
    assert.deepEqual(f.emu.admin.calls().filter((c) => !READ_ACTIONS.has(c.action)).map((c) => c.action), []);
  });

  test('a wrong next hop and a foreign conflict', async () => {
    await f.close();
    f = await startAlicloudFixture({ emulator: FAST.emulator, provider: FAST.provider }); // a fresh table
    const store = await seedStore(client, leases(), { Type: 'ali-vpc' });
    tartanEntry(1, 'i-fixture1');
    tartanEntry(2, 'i-fixture3'); // host 2's route points at host 3
    f.emu.admin.seedEntry({ tableId: f.tableId, destination: subnet(3), name: 'someone-else', nextHops: [{ NextHopId: 'i-fixture1', NextHopType: 'Instance' }] });
    for (const n of [1, 2, 3]) await putStatus(store, n, 'programmed', { [f.tableId]: 'programmed' });
    f.emu.admin.clearCalls();
    const { text, json, code } = await runAudit(store, f.makeProvider());
    assert.equal(code, 1);
    assert.equal(text.split('\n')[0], 'DRIFT: 1 wrong-next-hop, 1 conflict in 1 of 1 table; 2 route status disagreements (3 leases, 1 ok)');
    assert.match(text, /^vtb-tartan +10\.244\.2\.0\/24 +wrong-next-hop +10\.244\.2\.0-24 +i-fixture2 +i-fixture3$/m);
    assert.match(text, /^vtb-tartan +10\.244\.3\.0\/24 +conflict +10\.244\.3\.0-24 +i-fixture3 +i-fixture1 not tartan's$/m);
    assert.deepEqual(json.tables[0]!.drift.map((d) => [d.kind, d.want?.id, d.have?.nextHop?.id, d.have?.owned]), [
      ['wrong-next-hop', 'i-fixture2', 'i-fixture3', true],
      ['conflict', 'i-fixture3', 'i-fixture1', false],
    ]);
    assert.deepEqual(json.plan!.actions.map((a) => `${a.op} ${a.destination}`), [`replace ${subnet(2)}`]);
    assert.deepEqual(f.emu.admin.calls().filter((c) => !READ_ACTIONS.has(c.action)).map((c) => c.action), [], 'reads only');
  });
});
