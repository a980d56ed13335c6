// The controller's passes against a real etcd and the fake cloud (the providers
// have their own conformance suite; e2e with the emulators is in test/e2e).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Etcd3 } from 'etcd3';
import { parseNetworkConfig } from '../../src/config/network.ts';
import { Controller } from '../../src/controller/controller.ts';
import { DEFAULT_BUDGET } from '../../src/controller/planner.ts';
import { EtcdLeaseStore, createEtcdClient, type Lease } from '../../src/lease/index.ts';
import { silentLogger } from '../../src/observe/log.ts';
import { FakeCloud } from '../../providers/fake/provider.ts';
import { etcdClientFixture, startEtcd, uniquePrefix } from '../support/etcd.ts';

const config = parseNetworkConfig('{"Network":"10.244.0.0/16","Backend":{"Type":"aws-vpc"}}');
const signal = new AbortController().signal;
const ip = (n: number) => `192.168.${n >> 8}.${n & 255}`;

async function addHosts(store: EtcdLeaseStore, cloud: FakeCloud, from: number, to: number): Promise<Lease[]> {
  const out: Lease[] = [];
  for (let n = from; n <= to; n++) {
    cloud.addInstance(ip(n), { kind: 'instance', id: `i-${n}` });
    out.push(await store.acquire(config, { attrs: { publicIp: ip(n), backendType: 'vxlan', backendData: { VNI: 1, VtepMAC: '02:00:00:00:00:01', RouteDomain: 'aws:vpc-1' } } }, signal));
  }
  return out;
}

function setup(client: Etcd3, opts: { tables?: string[]; quota?: number } = {}) {
  const store = new EtcdLeaseStore({ client, prefix: uniquePrefix('ctl') });
  const cloud = new FakeCloud({ clusterNetworks: ['10.244.0.0/16'], tables: opts.tables ?? ['rtb-a', 'rtb-b'], quota: opts.quota ?? 200 });
  const controller = new Controller({ config: config, leases: store, provider: cloud, status: store, budget: DEFAULT_BUDGET, resyncMs: 60_000, log: silentLogger() });
  return { store, cloud, controller };
}

describe('controller passes (real etcd, fake cloud)', () => {
  const etcd = etcdClientFixture();

  test('100 leases converge in every table; deleted lease → route deleted; moved host → replaced', async () => {
    const { store, cloud, controller } = setup(etcd.client);
    const leases = await addHosts(store, cloud, 1, 100);
    await controller.reconcileOnce(signal);
    for (const t of ['rtb-a', 'rtb-b']) assert.equal((await cloud.listRoutes(t)).owned.length, 100);
    const again = await controller.reconcileOnce(signal);
    assert.equal(again.plan.actions.length, 0, 'a converged cluster needs no action');

    await etcd.client.delete().key(`${store.subnetsPrefix}${leases[0]!.key}`);
    // The host of lease 2 is replaced by a new instance with the same address.
    cloud.removeInstance(ip(2));
    cloud.addInstance(ip(2), { kind: 'instance', id: 'i-2-new' });
    await controller.reconcileOnce(signal);
    const routes = (await cloud.listRoutes('rtb-a')).owned;
    assert.equal(routes.length, 99);
    assert.equal(routes.find((r) => r.destination === `${leases[1]!.key.replace('-', '/')}`)?.nextHop?.id, 'i-2-new');
    assert.ok(!routes.some((r) => r.destination === leases[0]!.key.replace('-', '/')), 'route of the deleted lease is gone');
  });

  test('route status is written per lease, only when it changes', async () => {
    const { store, cloud, controller } = setup(etcd.client, { tables: ['rtb-a'] });
    const [lease] = await addHosts(store, cloud, 1, 1);
    // The create fails once: the status says error, with the reason.
    cloud.failOperation('createRoute', new Error('InternalError: injected'));
    await controller.reconcileOnce(signal);
    let status = (await store.listRouteStatus(signal)).statuses;
    assert.deepEqual(status.get(lease!.key), { ...(status.get(lease!.key) as object), state: 'error' });
    assert.match(JSON.stringify(status.get(lease!.key)), /create in rtb-a: InternalError: injected/);
    // A confirmed create is programmed in the same pass.
    await controller.reconcileOnce(signal);
    status = (await store.listRouteStatus(signal)).statuses;
    const programmed = status.get(lease!.key) as { state: string; updated: string; provider: string; tables: Record<string, string> };
    assert.deepEqual([programmed.state, programmed.provider, programmed.tables], ['programmed', 'fake', { 'rtb-a': 'programmed' }]);
    const rev = (await etcd.client.get(`${store.routesPrefix}${lease!.key}`).exec()).kvs[0]!.mod_revision;
    await controller.reconcileOnce(signal);
    assert.equal((await etcd.client.get(`${store.routesPrefix}${lease!.key}`).exec()).kvs[0]!.mod_revision, rev, 'unchanged status not rewritten');
  });

  test('overflow: 60 leases on a 50-route table → 50 programmed, 10 overflow, stable', async () => {
    const { store, cloud, controller } = setup(etcd.client, { tables: ['rtb-a'], quota: 50 });
    await addHosts(store, cloud, 1, 60);
    await controller.reconcileOnce(signal);
    const pass = await controller.reconcileOnce(signal);
    const states = [...pass.plan.statuses.values()].map((s) => s.state);
    assert.equal(states.filter((s) => s === 'programmed').length, 50);
    assert.equal(states.filter((s) => s === 'overflow').length, 10);
    const overflowed = [...pass.plan.statuses].filter(([, s]) => s.state === 'overflow').map(([k]) => k).sort();
    // A new controller (another leader) makes the same choice.
    const next = new Controller({ config: config, leases: store, provider: cloud, status: store, budget: DEFAULT_BUDGET, resyncMs: 60_000, log: silentLogger() });
    const other = await next.reconcileOnce(signal);
    assert.deepEqual([...other.plan.statuses].filter(([, s]) => s.state === 'overflow').map(([k]) => k).sort(), overflowed);
    assert.equal(other.plan.actions.length, 0, 'nothing flaps');
    assert.equal(cloud.mutations().filter((m) => m.operation === 'deleteRoute').length, 0);
  });

  test('drift: a route deleted by hand is repaired; a foreign route in the Network is reported, untouched', async () => {
    const { store, cloud, controller } = setup(etcd.client, { tables: ['rtb-a'] });
    const [a, b] = await addHosts(store, cloud, 1, 2);
    await controller.reconcileOnce(signal);
    cloud.removeRouteByHand('rtb-a', a!.key.replace('-', '/'));
    cloud.removeRouteByHand('rtb-a', b!.key.replace('-', '/'));
    cloud.seedRoute('rtb-a', b!.key.replace('-', '/'), { kind: 'instance', id: 'i-someone-else' });
    cloud.seedRoute('rtb-a', '10.244.250.0/24', { kind: 'instance', id: 'i-vpn' });
    const pass = await controller.reconcileOnce(signal);
    assert.deepEqual(pass.plan.actions.map((x) => x.op), ['create']);
    assert.equal(pass.plan.statuses.get(b!.key)?.state, 'conflict');
    const listing = await cloud.listRoutes('rtb-a');
    assert.ok(listing.owned.some((r) => r.destination === a!.key.replace('-', '/')));
    assert.deepEqual(listing.foreign.map((r) => r.destination).sort(), [b!.key.replace('-', '/'), '10.244.250.0/24'].sort());
  });

  test('a corrupt lease value never gets its route deleted; its neighbours still work', async () => {
    const { store, cloud, controller } = setup(etcd.client, { tables: ['rtb-a'] });
    const [a] = await addHosts(store, cloud, 1, 2);
    await controller.reconcileOnce(signal);
    await etcd.client.put(`${store.subnetsPrefix}${a!.key}`).value('{garbage');
    await addHosts(store, cloud, 3, 3);
    const pass = await controller.reconcileOnce(signal);
    assert.equal(pass.plan.held.deletions, 1);
    assert.equal((await cloud.listRoutes('rtb-a')).owned.length, 3);
  });

  test('deletion budget: 40 leases gone → 10 % or 5 per pass, the rest on the next passes', async () => {
    const { store, cloud, controller } = setup(etcd.client, { tables: ['rtb-a'] });
    const leases = await addHosts(store, cloud, 1, 60);
    await controller.reconcileOnce(signal);
    for (const l of leases.slice(0, 40)) await etcd.client.delete().key(`${store.subnetsPrefix}${l.key}`);
    const first = await controller.reconcileOnce(signal);
    assert.equal(first.plan.actions.filter((x) => x.op === 'delete').length, 6);
    assert.equal(first.plan.held.deletions, 34);
    for (let i = 0; i < 10 && (await cloud.listRoutes('rtb-a')).owned.length > 20; i++) await controller.reconcileOnce(signal);
    assert.equal((await cloud.listRoutes('rtb-a')).owned.length, 20);
  });
});

describe('fail static when etcd goes away', () => {
  test('etcd stopped → the pass fails, nothing is deleted; etcd back → converges', async () => {
    const server = await startEtcd();
    const client = createEtcdClient({ endpoints: [server.endpoint], dialTimeoutMs: 1000 });
    try {
      const { store, cloud, controller } = setup(client, { tables: ['rtb-a'] });
      await addHosts(store, cloud, 1, 5);
      await controller.reconcileOnce(signal);
      await server.stop();
      await assert.rejects(controller.reconcileOnce(AbortSignal.timeout(8000)));
      assert.equal(cloud.mutations().filter((m) => m.operation === 'deleteRoute').length, 0);
      assert.equal((await cloud.listRoutes('rtb-a')).owned.length, 5);
      await server.restart();
      // etcd3's circuit breaker stays open a few seconds after failures.
      for (let i = 0; i < 100; i++) {
        if (await store.list(signal).then(() => true, () => false)) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      await addHosts(store, cloud, 6, 6);
      await controller.reconcileOnce(signal);
      assert.equal((await cloud.listRoutes('rtb-a')).owned.length, 6);
    } finally {
      client.close();
      await server.destroy();
    }
  });
});
