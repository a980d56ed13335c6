// GCE provider behaviour beyond the conformance suite, through the real SDK and
// the compute emulator: 409 handling, operation errors and re-waits, host
// preparation, blackholes, host resolution, ownership checks, client rate limits.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConflictError, NotFoundError, NotOwnedError, QuotaExceededError } from '../../../src/errors.ts';
import { type GceEmulator, startGceEmulator } from '../../emulators/gce/index.ts';
import { createGceProvider, type GceProvider, type GceProviderOptions } from '../../../providers/gce/index.ts';
import { GceOperationError } from '../../../providers/gce/wire.ts';

const ZONE = 'europe-west1-b';
const NET = 'tartan-net';
const hop = (n: number): { kind: 'instance'; id: string } => ({ kind: 'instance', id: `zones/${ZONE}/instances/node-${n}` });
const signal = new AbortController().signal;

describe('gce provider', () => {
  let emu: GceEmulator;
  let provider: GceProvider;
  const providers: GceProvider[] = [];
  const make = (extra: Partial<GceProviderOptions> = {}): GceProvider => {
    const p = createGceProvider({
      project: emu.project, network: NET, endpoint: emu.endpoint, accessToken: 'tok', clusterName: 'prod',
      clusterNetworks: ['10.244.0.0/16', 'fd00:10:244::/56'], retry: { baseMs: 5, maxMs: 50 }, rateLimits: { windowMs: 200 }, ...extra,
    });
    providers.push(p);
    return p;
  };
  const calls = (id: string): { status: number; at: number; path: string }[] => emu.admin.calls().filter((c) => c.id === id);

  before(async () => {
    emu = await startGceEmulator({ token: 'tok', operationTiming: { pendingMs: 2, runningMs: 5 } });
  });
  beforeEach(() => {
    emu.admin.reset();
    emu.admin.setOperationTiming({ pendingMs: 2, runningMs: 5 });
    for (const n of [1, 2, 3]) emu.admin.addInstance({ zone: ZONE, name: `node-${n}`, networkIP: `10.132.0.${n + 1}` });
    provider = make();
  });
  after(async () => {
    for (const p of providers) await p.close();
    await emu.close();
  });

  test('tables() is the configured network, checked to exist', async () => {
    assert.deepEqual(await provider.tables(signal), [{ id: NET, name: NET }]);
    await assert.rejects(make({ network: 'no-such-net' }).tables(signal), NotFoundError);
  });

  test('routes are named and marked, and read back as owned with the next hop', async () => {
    await provider.createRoute(NET, { destination: '10.244.3.0/24', nextHop: hop(1) }, signal);
    await provider.createRoute(NET, { destination: 'fd00:10:244:3::/64', nextHop: hop(2) }, signal);
    const raw = emu.admin.routes().find((r) => r.name === 'tartan-prod-10-244-3-0-24');
    assert.equal(raw?.description, 'tartan:prod');
    assert.equal(raw?.nextHopInstance, `https://www.googleapis.com/compute/v1/projects/${emu.project}/zones/${ZONE}/instances/node-1`);
    const { owned } = await provider.listRoutes(NET, signal);
    assert.deepEqual(owned.map((r) => [r.destination, r.nextHop?.id, r.state, r.id]).sort(), [
      ['10.244.3.0/24', hop(1).id, 'active', 'tartan-prod-10-244-3-0-24'],
      ['fd00:10:244:3::/64', hop(2).id, 'active', 'tartan-prod-fd00-10-244-3---64'],
    ]);
  });

  test('409 with the same next hop is success: one insert, one get, nothing written twice', async () => {
    await provider.createRoute(NET, { destination: '10.244.4.0/24', nextHop: hop(1) }, signal);
    emu.admin.clearCalls();
    await make().createRoute(NET, { destination: '10.244.4.0/24', nextHop: hop(1) }, signal);
    assert.deepEqual(emu.admin.calls().map((c) => `${c.id} ${c.status}`), ['routes.insert 409', 'routes.get 200']);
  });

  test('409 with another next hop, or on a route that is not ours, is a ConflictError', async () => {
    await provider.createRoute(NET, { destination: '10.244.5.0/24', nextHop: hop(1) }, signal);
    await assert.rejects(provider.createRoute(NET, { destination: '10.244.5.0/24', nextHop: hop(2) }, signal), ConflictError);
    emu.admin.addRoute({ name: 'tartan-prod-10-244-6-0-24', destRange: '10.244.6.0/24', nextHopInstance: hop(1).id, description: 'made by hand' });
    await assert.rejects(provider.createRoute(NET, { destination: '10.244.6.0/24', nextHop: hop(1) }, signal), ConflictError);
    assert.equal(emu.admin.routes().find((r) => r.name === 'tartan-prod-10-244-6-0-24')?.description, 'made by hand');
  });

  test('quota: the insert answers 200, the operation carries QUOTA_EXCEEDED, the caller gets QuotaExceededError', async () => {
    emu.admin.setQuota(1); // the network's default route already takes the only place
    await assert.rejects(provider.createRoute(NET, { destination: '10.244.7.0/24', nextHop: hop(1) }, signal), QuotaExceededError);
    assert.deepEqual(calls('routes.insert').map((c) => c.status), [200]);
  });

  test('any other operation error is surfaced with its code', async () => {
    emu.admin.injectFaults({ operationErrors: [{ code: 'RESOURCE_OPERATION_RATE_EXCEEDED', message: 'too many operations on this network' }] });
    await assert.rejects(provider.createRoute(NET, { destination: '10.244.8.0/24', nextHop: hop(1) }, signal),
      (e: unknown) => e instanceof GceOperationError && e.codes.includes('RESOURCE_OPERATION_RATE_EXCEEDED') && /too many operations/.test(e.message));
    assert.equal((await provider.listRoutes(NET, signal)).owned.length, 0);
  });

  test('an operation still running at the wait deadline is waited for again, at most 5 polls a second', async () => {
    emu.admin.setWaitDeadline(20);
    emu.admin.setOperationTiming({ pendingMs: 150, runningMs: 500 });
    await provider.createRoute(NET, { destination: '10.244.9.0/24', nextHop: hop(1) }, signal);
    const waits = calls('globalOperations.wait');
    assert.ok(waits.length >= 3, `re-waited (${waits.length} waits)`);
    for (let i = 1; i < waits.length; i++) {
      assert.ok(waits[i]!.at - waits[i - 1]!.at >= 200, `polls ${waits[i]!.at - waits[i - 1]!.at} ms apart`);
    }
    assert.ok((await provider.listRoutes(NET, signal)).owned.some((r) => r.destination === '10.244.9.0/24'));
  });

  test('capacity: configured quota, else the project ROUTES quota counting every network', async () => {
    emu.admin.setQuota(40);
    emu.admin.addNetwork('other-net'); // its default route counts in the project, not in our network
    assert.deepEqual(await provider.capacity(NET, signal), { quota: 40, used: 2 });
    assert.deepEqual(await make({ routeQuota: 100 }).capacity(NET, signal), { quota: 100, used: 1 });
  });

  test('a deleted instance leaves its route as a blackhole', async () => {
    await provider.createRoute(NET, { destination: '10.244.10.0/24', nextHop: hop(3) }, signal);
    emu.admin.removeInstance(ZONE, 'node-3');
    const route = (await provider.listRoutes(NET, signal)).owned.find((r) => r.destination === '10.244.10.0/24');
    assert.equal(route?.state, 'blackhole');
    await provider.deleteRoute(NET, route, signal);
    assert.equal((await provider.listRoutes(NET, signal)).owned.length, 0);
  });

  test('prepareHosts reports canIpForward, and fixes nothing', async () => {
    emu.admin.addInstance({ zone: ZONE, name: 'no-forward', networkIP: '10.132.0.50', canIpForward: false });
    const got = await provider.prepareHosts([hop(1), { kind: 'instance', id: `zones/${ZONE}/instances/no-forward` }, hop(99)], signal);
    assert.deepEqual(got.map((g) => g.result), ['ok', 'unfixable', 'unfixable']);
    assert.match(got[1]!.reason ?? '', /canIpForward=false/);
    assert.match(got[2]!.reason ?? '', /no instance/);
    assert.equal(emu.admin.calls().filter((c) => c.method !== 'GET').length, 0, 'report only: no writes');
  });

  test('resolveHosts: only running-or-starting instances in our network, one listing', async () => {
    emu.admin.addNetwork('other-net');
    emu.admin.addInstance({ zone: 'us-east1-c', name: 'elsewhere', networkIP: '10.200.0.2', network: 'other-net' });
    emu.admin.addInstance({ zone: ZONE, name: 'stopped', networkIP: '10.132.0.60', status: 'TERMINATED' });
    const got = await provider.resolveHosts(['10.132.0.2', '10.200.0.2', '10.132.0.60', '192.0.2.1'].map((publicIp) => ({ publicIp })), signal);
    assert.deepEqual([...got], [['10.132.0.2', hop(1)]]);
    assert.equal(calls('instances.aggregatedList').length, 1);
  });

  test('deleteRoute refuses what is not ours: before any call, and after reading the marks', async () => {
    emu.admin.addRoute({ name: 'someone-else', destRange: '10.244.11.0/24', nextHopInstance: hop(1).id });
    const foreign = (await provider.listRoutes(NET, signal)).foreign.find((r) => r.destination === '10.244.11.0/24')!;
    emu.admin.clearCalls();
    await assert.rejects(provider.deleteRoute(NET, { ...foreign, owned: true }, signal), NotOwnedError);
    assert.equal(emu.admin.calls().length, 0, 'no API call for a name without our prefix');
    emu.admin.addRoute({ name: 'tartan-prod-10-244-12-0-24', destRange: '10.244.12.0/24', nextHopInstance: hop(1).id, description: 'tartan:prod-b' });
    await assert.rejects(provider.deleteRoute(NET, { ...foreign, destination: '10.244.12.0/24', id: 'tartan-prod-10-244-12-0-24', owned: true }, signal), NotOwnedError);
    assert.equal(calls('routes.delete').length, 0);
    assert.equal(emu.admin.routes().length, 3, 'default route and both foreign routes survive');
  });

  test('routes outside the cluster Network are refused before any call', async () => {
    await assert.rejects(provider.createRoute(NET, { destination: '10.99.0.0/24', nextHop: hop(1) }, signal), /outside the cluster Network/);
    assert.equal(emu.admin.calls().length, 0);
  });

  test('client-side rate limits keep a burst under the server quota: no throttling seen', async () => {
    emu.admin.setRateLimits({ enabled: true, writesPerMinute: 12, readsPerMinute: 12, windowMs: 500 });
    const limited = make({ rateLimits: { writesPerMinute: 12, readsPerMinute: 12, windowMs: 500 } });
    // 20 concurrent creates would spend the 12 writes of one window at once without the client bucket.
    await Promise.all(Array.from({ length: 20 }, (_, i) =>
      limited.createRoute(NET, { destination: `10.244.${20 + i}.0/24`, nextHop: hop(1 + (i % 3)) }, signal)));
    assert.equal(emu.admin.calls().filter((c) => c.status === 403).length, 0);
    assert.deepEqual(limited.calls()['routes.insert'], { ok: 20 });
  });

  test('calls are counted by operation and result, throttling included', async () => {
    emu.admin.injectFaults({ throttle: 1, serverErrors: 1, drop: 1 });
    await provider.createRoute(NET, { destination: '10.244.30.0/24', nextHop: hop(1) }, signal);
    assert.deepEqual(provider.calls()['routes.insert'], { throttled: 1, server_error: 1, network: 1, ok: 1 });
    assert.deepEqual(provider.calls()['globalOperations.wait'], { ok: 1 });
  });
});
