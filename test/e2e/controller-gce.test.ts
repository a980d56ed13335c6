// The controller against the real GCE provider (@google-cloud/compute) and the
// compute v1 emulator in process: convergence, lease deleted, host moved, drift.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Controller } from '../../src/controller/controller.ts';
import { DEFAULT_BUDGET } from '../../src/controller/planner.ts';
import { EtcdLeaseStore, type Lease } from '../../src/lease/index.ts';
import { silentLogger } from '../../src/observe/log.ts';
import { createGceProvider } from '../../providers/gce/index.ts';
import { type GceEmulator, startGceEmulator } from '../emulators/gce/index.ts';
import { etcdClientFixture, uniquePrefix } from '../support/etcd.ts';
import { NETWORK, acquireAll, agentAttrs, destinationOf, dropLease, forever, networkConfig } from './controller-kit.ts';

const ZONE = 'europe-west1-b';
const DOMAIN = 'gce:tartan-test/tartan-net';
const ip = (i: number): string => `10.128.${(i + 2) >> 8}.${(i + 2) & 255}`;

async function world(instances: number) {
  const emu = await startGceEmulator({ token: 'e2e-token', operationTiming: { pendingMs: 5, runningMs: 10 } });
  for (let i = 0; i < instances; i++) emu.admin.addInstance({ zone: ZONE, name: `node-${i}`, networkIP: ip(i) });
  const provider = createGceProvider({
    project: emu.project, network: 'tartan-net', endpoint: emu.endpoint, accessToken: 'e2e-token',
    clusterName: 'e2e', clusterNetworks: [NETWORK],
    // The emulator keeps GCE's per-minute quotas; a 1 s client window only makes the client's own pacing faster.
    rateLimits: { windowMs: 1000 }, retry: { baseMs: 10, maxMs: 200 },
  });
  return {
    emu, provider,
    hosts: (from: number, to: number) => Array.from({ length: to - from }, (_, k) => ({ ip: ip(from + k), domain: DOMAIN })),
    close: async () => {
      await provider.close();
      await emu.close();
    },
  };
}

function tartanRoutes(emu: GceEmulator): Map<string, { name: string; nextHopInstance: string }> {
  const out = new Map<string, { name: string; nextHopInstance: string }>();
  for (const r of emu.admin.routes() as { name: string; destRange: string; description?: string; nextHopInstance?: string }[]) {
    if (r.description === 'tartan:e2e') out.set(r.destRange, { name: r.name, nextHopInstance: r.nextHopInstance ?? '' });
  }
  return out;
}

describe('controller × GCE (compute emulator)', () => {
  const etcd = etcdClientFixture();

  test('100 leases converge; a deleted lease loses its route; a moved host gets it replaced', async (t) => {
    const w = await world(101);
    t.after(() => w.close());
    const store = new EtcdLeaseStore({ client: etcd.client, prefix: uniquePrefix('ctl-gce') });
    const controller = new Controller({ config: networkConfig, leases: store, provider: w.provider, status: store, budget: DEFAULT_BUDGET, resyncMs: 60_000, log: silentLogger() });
    const leases = await acquireAll(store, w.hosts(0, 100));

    await controller.reconcileOnce(forever);
    let routes = tartanRoutes(w.emu);
    assert.equal(routes.size, 100);
    for (const [i, l] of leases.entries()) assert.match(routes.get(destinationOf(l))?.nextHopInstance ?? '', new RegExp(`/zones/${ZONE}/instances/node-${i}$`));
    assert.equal((await controller.reconcileOnce(forever)).plan.actions.length, 0, 'converged: nothing to do');

    // Lease 0 expires; node-1 is recreated under another name with the same
    // address; lease 2's host moves to the spare node-100.
    await dropLease(etcd.client, store, leases[0]!);
    w.emu.admin.removeInstance(ZONE, 'node-1');
    w.emu.admin.addInstance({ zone: ZONE, name: 'node-1-new', networkIP: ip(1) });
    await store.renew({ ...leases[2]!, attrs: agentAttrs({ ip: ip(100), domain: DOMAIN }) }, forever);
    await controller.reconcileOnce(forever);
    routes = tartanRoutes(w.emu);
    assert.equal(routes.size, 99);
    assert.equal(routes.has(destinationOf(leases[0]!)), false);
    assert.match(routes.get(destinationOf(leases[1]!))?.nextHopInstance ?? '', /\/instances\/node-1-new$/);
    assert.match(routes.get(destinationOf(leases[2]!))?.nextHopInstance ?? '', /\/instances\/node-100$/);
    assert.equal((await controller.reconcileOnce(forever)).plan.actions.length, 0);
    const states = [...(await store.listRouteStatus(forever)).statuses.values()].map((s) => (s as { state: string }).state);
    assert.deepEqual([states.length, states.filter((s) => s === 'programmed').length], [99, 99]);
    // Mutations: 100 inserts, then one delete and two delete+insert pairs (GCE routes cannot be changed in place).
    const writes = w.emu.admin.calls().filter((c) => c.method !== 'GET' && /routes/.test(c.id ?? '')).map((c) => c.id);
    assert.deepEqual([writes.filter((x) => x === 'routes.insert').length, writes.filter((x) => x === 'routes.delete').length], [102, 3]);
  });

  test('drift: a route deleted by hand is repaired; a foreign route in the Network is reported and untouched', async (t) => {
    const w = await world(3);
    t.after(() => w.close());
    const store = new EtcdLeaseStore({ client: etcd.client, prefix: uniquePrefix('ctl-gce-drift') });
    const controller = new Controller({ config: networkConfig, leases: store, provider: w.provider, status: store, budget: DEFAULT_BUDGET, resyncMs: 60_000, log: silentLogger() });
    const [a, b] = await acquireAll(store, w.hosts(0, 3)) as [Lease, Lease];
    await controller.reconcileOnce(forever);
    const routes = tartanRoutes(w.emu);
    w.emu.admin.removeRoute(routes.get(destinationOf(a))!.name);
    w.emu.admin.removeRoute(routes.get(destinationOf(b))!.name);
    w.emu.admin.addRoute({ name: 'someone-else', destRange: destinationOf(b), nextHopInstance: `zones/${ZONE}/instances/node-2`, description: 'by hand' });
    const pass = await controller.reconcileOnce(forever);
    assert.deepEqual(pass.plan.actions.map((x) => `${x.op} ${x.op === 'delete' ? x.route.destination : x.destination}`), [`create ${destinationOf(a)}`]);
    assert.equal(pass.plan.statuses.get(b.key)?.state, 'conflict');
    assert.ok(tartanRoutes(w.emu).has(destinationOf(a)), 'repaired');
    await controller.reconcileOnce(forever);
    const status = (await store.listRouteStatus(forever)).statuses.get(b.key) as { state: string; reason: string };
    assert.equal(status.state, 'conflict');
    const foreign = (w.emu.admin.routes() as { name: string; destRange: string }[]).find((r) => r.name === 'someone-else');
    assert.equal(foreign?.destRange, destinationOf(b), 'the foreign route is untouched');
  });
});
