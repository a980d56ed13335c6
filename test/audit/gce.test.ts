// `tartan audit` against a real etcd and the compute v1 emulator (the real
// @google-cloud/compute client): a clean network, then missing, stale and a
// foreign conflict; the call log shows GETs only.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Etcd3 } from 'etcd3';
import { createEtcdClient } from '../../src/lease/index.ts';
import { createGceProvider, routeNaming } from '../../providers/gce/index.ts';
import { type GceEmulator, startGceEmulator } from '../emulators/gce/index.ts';
import { sharedEtcd } from '../support/etcd.ts';
import { key, putStatus, runAudit, seedStore, subnet } from './support.ts';

const ZONE = 'us-central1-a';
const CLUSTER = 'audit';
const naming = routeNaming(CLUSTER);
const hop = (n: number): string => `zones/${ZONE}/instances/node-${n}`;

describe('audit: GCE', () => {
  let etcd: Awaited<ReturnType<typeof sharedEtcd>>;
  let client: Etcd3;
  let emu: GceEmulator;
  before(async () => {
    etcd = await sharedEtcd();
    client = createEtcdClient({ endpoints: [etcd.endpoint] });
    emu = await startGceEmulator({ token: 'audit-token', operationTiming: { pendingMs: 5, runningMs: 10 } });
    for (let n = 1; n <= 4; n++) emu.admin.addInstance({ zone: ZONE, name: `node-${n}`, networkIP: `10.128.0.${n}` });
  });
  after(async () => {
    await emu.close();
    client.close();
    await etcd.close();
  });

  const provider = () => createGceProvider({
    project: emu.project, network: 'tartan-net', endpoint: emu.endpoint, accessToken: 'audit-token',
    clusterName: CLUSTER, clusterNetworks: ['10.244.0.0/16'], rateLimits: { windowMs: 200 }, retry: { baseMs: 10, maxMs: 200 },
  });
  const tartanRoute = (n: number, instance = n): void =>
    emu.admin.addRoute({ name: naming.nameFor(subnet(n)), destRange: subnet(n), nextHopInstance: hop(instance), description: naming.marker });
  const hosts = (ns: number[]) => ns.map((n) => ({ n, publicIp: `10.128.0.${n}` }));

  test('clean: every lease routed, status agrees → OK, exit 0, GETs only', async () => {
    emu.admin.reset();
    for (let n = 1; n <= 4; n++) emu.admin.addInstance({ zone: ZONE, name: `node-${n}`, networkIP: `10.128.0.${n}` });
    const store = await seedStore(client, hosts([1, 2, 3]), { Type: 'gce' });
    for (const n of [1, 2, 3]) {
      tartanRoute(n);
      await putStatus(store, n, 'programmed', { 'tartan-net': 'programmed' });
    }
    const p = provider();
    try {
      const { text, json, code } = await runAudit(store, p);
      assert.equal(text.split('\n')[0], 'OK: no drift in 1 table (3 leases, 3 ok)');
      // The network's default internet route takes a place of the quota too.
      assert.match(text, /^tartan-net +4\/250 +3( +0){6}$/m);
      assert.equal(code, 0);
      assert.equal(json.sources.cloud?.provider, 'gce');
      assert.deepEqual(emu.admin.calls().filter((c) => c.method !== 'GET').map((c) => `${c.method} ${c.path}`), []);
    } finally {
      await p.close();
    }
  });

  test('missing, stale, wrong next hop and a foreign conflict, with the plan', async () => {
    emu.admin.reset();
    for (let n = 1; n <= 4; n++) emu.admin.addInstance({ zone: ZONE, name: `node-${n}`, networkIP: `10.128.0.${n}` });
    const store = await seedStore(client, hosts([1, 2, 3, 4]), { Type: 'gce' });
    tartanRoute(1);
    tartanRoute(3, 1); // points at node-1
    tartanRoute(77, 1); // no lease
    emu.admin.addRoute({ name: 'someone-else', destRange: subnet(4), nextHopInstance: hop(4), description: 'a VPN' });
    for (const n of [1, 2, 3, 4]) await putStatus(store, n, 'programmed', { 'tartan-net': 'programmed' });
    emu.admin.clearCalls();
    const p = provider();
    try {
      const { text, json, code } = await runAudit(store, p);
      assert.equal(code, 1);
      assert.equal(text.split('\n')[0], 'DRIFT: 1 missing, 1 wrong-next-hop, 1 stale, 1 conflict in 1 of 1 table; 3 route status disagreements (4 leases, 1 ok)');
      assert.match(text, new RegExp(`^tartan-net +10\\.244\\.2\\.0/24 +missing +10\\.244\\.2\\.0-24 +${hop(2)} +-$`, 'm'));
      assert.match(text, new RegExp(`^tartan-net +10\\.244\\.3\\.0/24 +wrong-next-hop +10\\.244\\.3\\.0-24 +${hop(3)} +${hop(1)}$`, 'm'));
      assert.match(text, new RegExp(`^tartan-net +10\\.244\\.4\\.0/24 +conflict +10\\.244\\.4\\.0-24 +${hop(4)} +${hop(4)} not tartan's$`, 'm'));
      assert.match(text, new RegExp(`^tartan-net +10\\.244\\.77\\.0/24 +stale +- +- +${hop(1)}$`, 'm'));
      assert.deepEqual(json.tables[0]!.drift.map((d) => [d.destination, d.kind, d.lease]), [
        [subnet(2), 'missing', key(2)], [subnet(3), 'wrong-next-hop', key(3)], [subnet(4), 'conflict', key(4)], [subnet(77), 'stale', null],
      ]);
      // The planner's order: leases that hold a route first. (GCE has no in-place replace; the controller's act step does delete + create.)
      assert.deepEqual(json.plan!.actions.map((a) => `${a.op} ${a.destination}`), [`replace ${subnet(3)}`, `create ${subnet(2)}`, `delete ${subnet(77)}`]);
      assert.deepEqual(emu.admin.calls().filter((c) => c.method !== 'GET').map((c) => `${c.method} ${c.path}`), [], 'reads only');
      assert.equal(emu.admin.routes().length, 5, 'nothing changed: default route + 4 seeded');
    } finally {
      await p.close();
    }
  });
});
