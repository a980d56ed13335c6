// The emulator as the real @google-cloud/compute client (REST mode) sees it, on a
// manual clock: operations, quotas, rate windows and wait deadlines move only
// when the test moves time.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { GlobalOperationsClient, InstancesClient, type protos, RoutesClient } from '@google-cloud/compute';
import { OAuth2Client } from 'google-auth-library';
import { type GceEmulator, startGceEmulator } from './index.ts';
import { FakeClock } from '../../../src/util/fake-clock.ts';
import { waitFor } from '../../support/wait.ts';

const ZONE = 'us-central1-a';
const TOKEN = 'emulator-test-token';

function sdk(emu: GceEmulator, token = TOKEN): { routes: RoutesClient; ops: GlobalOperationsClient; instances: InstancesClient } {
  const authClient = new OAuth2Client();
  authClient.setCredentials({ access_token: token });
  const o = { apiEndpoint: '127.0.0.1', port: emu.port, protocol: 'http', authClient, fallback: true };
  return { routes: new RoutesClient(o), ops: new GlobalOperationsClient(o), instances: new InstancesClient(o) };
}

/** insert/delete type their result as a google.longrunning Operation; in compute's REST mode it is the compute Operation. */
const computeOp = (lro: { latestResponse: unknown }): protos.google.cloud.compute.v1.IOperation =>
  lro.latestResponse as protos.google.cloud.compute.v1.IOperation;

/** The HTTP status and compute error reason of an SDK error. */
function failure(err: unknown): { status: unknown; reason: unknown } {
  const e = err as { httpStatusCode?: unknown } & Record<symbol, unknown>;
  const raw = e[Symbol.for('google-gax.rawHttpResponsePayload')];
  const body = typeof raw === 'string' ? (JSON.parse(raw) as { error?: { errors?: { reason?: string }[] } }) : undefined;
  return { status: e.httpStatusCode, reason: body?.error?.errors?.[0]?.reason };
}

async function rejectsWith(p: Promise<unknown>, status: number, reason?: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.deepEqual(failure(err), { status, reason: reason ?? failure(err).reason });
    return true;
  });
}

describe('gce emulator through the real SDK', () => {
  const clock = new FakeClock();
  let emu: GceEmulator;
  let c: ReturnType<typeof sdk>;
  const project = 'tartan-test';
  const body = (name: string, destRange: string, hop = `zones/${ZONE}/instances/node-1`) =>
    ({ name, network: 'global/networks/tartan-net', destRange, nextHopInstance: hop, description: 'd' });
  const insert = (name: string, destRange: string, requestId?: string) =>
    c.routes.insert({ project, routeResource: body(name, destRange), ...(requestId ? { requestId } : {}) }, { retry: null })
      .then(([lro]) => ({ name: computeOp(lro).name!, status: computeOp(lro).status! }));
  const opStatus = async (name: string) => (await c.ops.get({ project, operation: name }))[0];
  const settle = (): Promise<void> => clock.advance(100 + 200);

  before(async () => {
    emu = await startGceEmulator({ clock, token: TOKEN, operationTiming: { pendingMs: 100, runningMs: 200 }, waitDeadlineMs: 120_000 });
    c = sdk(emu);
  });
  beforeEach(() => {
    emu.admin.reset();
    emu.admin.addInstance({ zone: ZONE, name: 'node-1', networkIP: '10.128.0.2' });
  });
  after(async () => {
    await Promise.all([c.routes.close(), c.ops.close(), c.instances.close()]);
    await emu.close();
  });

  test('a missing or wrong bearer token is 401', async () => {
    const res = await fetch(`${emu.endpoint}/compute/v1/projects/${project}/global/routes`);
    assert.equal(res.status, 401);
    const wrong = sdk(emu, 'not-the-token');
    await rejectsWith(wrong.routes.list({ project }, { autoPaginate: false, retry: null }), 401, 'authError');
    await wrong.routes.close();
  });

  test('insert: PENDING → RUNNING → DONE on the clock; the route exists only at DONE', async () => {
    const op = await insert('r1', '10.244.1.0/24');
    assert.equal(op.status, 'PENDING');
    await rejectsWith(c.routes.get({ project, route: 'r1' }, { retry: null }), 404, 'notFound');
    await clock.advance(100);
    assert.equal((await opStatus(op.name)).status, 'RUNNING');
    await rejectsWith(c.routes.get({ project, route: 'r1' }, { retry: null }), 404, 'notFound');
    await clock.advance(200);
    const done = await opStatus(op.name);
    assert.deepEqual([done.status, done.progress, done.operationType], ['DONE', 100, 'insert']);
    const [route] = await c.routes.get({ project, route: 'r1' });
    assert.equal(route.nextHopInstance, `https://www.googleapis.com/compute/v1/projects/${project}/zones/${ZONE}/instances/node-1`);
    assert.equal(route.network, `https://www.googleapis.com/compute/v1/projects/${project}/global/networks/tartan-net`);
    assert.deepEqual([route.kind, route.priority, route.destRange], ['compute#route', 1000, '10.244.1.0/24']);
  });

  test('requestId makes a retried insert return the same operation; another insert of the name is 409', async () => {
    const id = '7f0f4b1e-9c1a-4c55-8f0e-2d7b9a6c1e01';
    const first = await insert('r2', '10.244.2.0/24', id);
    const again = await insert('r2', '10.244.2.0/24', id);
    assert.equal(again.name, first.name);
    await rejectsWith(insert('r2', '10.244.2.0/24'), 409, 'alreadyExists');
    await settle();
    await rejectsWith(insert('r2', '10.244.2.0/24'), 409, 'alreadyExists');
    await rejectsWith(insert('r3', '10.244.3.0/24', 'not-a-uuid'), 400, 'invalid');
  });

  test('bad route bodies are 400 invalid; unknown references 404', async () => {
    await rejectsWith(insert('Bad_Name', '10.244.4.0/24'), 400, 'invalid');
    await rejectsWith(insert(`r${'x'.repeat(63)}`, '10.244.4.0/24'), 400, 'invalid');
    await rejectsWith(insert('ends-with-dash-', '10.244.4.0/24'), 400, 'invalid');
    await rejectsWith(insert('r4', '10.244.4.1/24'), 400, 'invalid');
    await rejectsWith(c.routes.insert({ project, routeResource: body('r4', '10.244.4.0/24', `zones/${ZONE}/instances/nope`) }, { retry: null }), 404, 'notFound');
    await rejectsWith(c.routes.insert({ project: 'no-such-project', routeResource: body('r4', '10.244.4.0/24') }, { retry: null }), 404, 'notFound');
  });

  test('IPv6 destinations read back in RFC 5952 form', async () => {
    await insert('r6', 'FD00:0010:0244:0006:0:0:0:0/64');
    await settle();
    assert.equal((await c.routes.get({ project, route: 'r6' }))[0].destRange, 'fd00:10:244:6::/64');
  });

  test('delete: the route stays until DONE; deleting a missing route is 404', async () => {
    await insert('r5', '10.244.5.0/24');
    await settle();
    const [lro] = await c.routes.delete({ project, route: 'r5' }, { retry: null });
    assert.equal(computeOp(lro).status, 'PENDING');
    assert.equal((await c.routes.get({ project, route: 'r5' }))[0].name, 'r5');
    await settle();
    await rejectsWith(c.routes.get({ project, route: 'r5' }, { retry: null }), 404);
    await rejectsWith(c.routes.delete({ project, route: 'r5' }, { retry: null }), 404, 'notFound');
  });

  test('list: pages of maxResults with nextPageToken; maxResults above 500 is 400', async () => {
    for (const i of [1, 2, 3]) await insert(`p${i}`, `10.244.${10 + i}.0/24`);
    await settle();
    const names: string[] = [];
    let pageToken: string | undefined;
    let pages = 0;
    do {
      const [items, , raw] = await c.routes.list({ project, maxResults: 2, ...(pageToken ? { pageToken } : {}) }, { autoPaginate: false });
      names.push(...items.map((r) => r.name!));
      pageToken = raw?.nextPageToken ?? undefined;
      pages++;
    } while (pageToken);
    assert.equal(pages, 2);
    assert.deepEqual(names.filter((n) => !n.startsWith('default-route-')), ['p1', 'p2', 'p3']);
    await rejectsWith(c.routes.list({ project, maxResults: 501 }, { autoPaginate: false, retry: null }), 400, 'invalid');
    emu.admin.setPageSizeCap(1);
    const [capped, , raw] = await c.routes.list({ project, maxResults: 500 }, { autoPaginate: false });
    assert.equal(capped.length, 1);
    assert.ok(raw?.nextPageToken);
  });

  test('list filters: name regex, network URL, conjunction, AIP-160; mixing dialects is 400', async () => {
    emu.admin.addNetwork('other-net');
    await insert('tartan-a-1', '10.244.21.0/24');
    await insert('tartan-a-2', '10.244.22.0/24');
    await insert('other-1', '10.244.23.0/24');
    await settle();
    emu.admin.addRoute({ name: 'tartan-a-3', destRange: '10.244.24.0/24', network: 'other-net', nextHopIp: '10.128.0.9' });
    const names = async (filter: string) =>
      (await c.routes.list({ project, filter }, { autoPaginate: false }))[0].map((r) => r.name).filter((n) => !n?.startsWith('default-route-')).sort();
    assert.deepEqual(await names('name eq tartan-a-.*'), ['tartan-a-1', 'tartan-a-2', 'tartan-a-3']);
    assert.deepEqual(await names('name ne "tartan-.*"'), ['other-1']);
    assert.deepEqual(await names('network eq ".*/global/networks/other-net"'), ['tartan-a-3']);
    assert.deepEqual(await names('(name eq "tartan-a-.*") (network eq ".*/networks/tartan-net")'), ['tartan-a-1', 'tartan-a-2']);
    assert.deepEqual(await names('name = "other-1"'), ['other-1']);
    assert.deepEqual(await names('(name = "other-1") OR (name = "tartan-a-2")'), ['other-1', 'tartan-a-2']);
    await rejectsWith(c.routes.list({ project, filter: '(name eq x) (name = y)' }, { autoPaginate: false, retry: null }), 400, 'invalid');
  });

  test('wait answers at DONE, or at the deadline with the operation still running', async () => {
    const op = await insert('w1', '10.244.30.0/24');
    const waiting = c.ops.wait({ project, operation: op.name });
    await waitFor('the wait to sleep on the clock', () => clock.pending().length > 0, { everyMs: 5 });
    await clock.advance(300);
    assert.equal((await waiting)[0].status, 'DONE');
    emu.admin.setWaitDeadline(50);
    const slow = await insert('w2', '10.244.31.0/24');
    const early = c.ops.wait({ project, operation: slow.name });
    await waitFor('the wait to sleep on the clock', () => clock.pending().length > 0, { everyMs: 5 });
    await clock.advance(50);
    assert.equal((await early)[0].status, 'PENDING');
    await settle();
  });

  test('quota: the insert answers 200, the operation ends DONE with QUOTA_EXCEEDED, no route', async () => {
    emu.admin.setQuota(2); // the default route holds one place
    await insert('q1', '10.244.40.0/24');
    const op = await insert('q2', '10.244.41.0/24');
    assert.equal(op.status, 'PENDING');
    await settle();
    const done = await opStatus(op.name);
    assert.equal(done.status, 'DONE');
    assert.equal(done.error?.errors?.[0]?.code, 'QUOTA_EXCEEDED');
    assert.equal(done.httpErrorStatusCode, 403);
    await rejectsWith(c.routes.get({ project, route: 'q2' }, { retry: null }), 404);
  });

  test('rate windows: separate read and write quotas, refilled at the window boundary', async () => {
    emu.admin.setRateLimits({ enabled: true, writesPerMinute: 2, readsPerMinute: 3, windowMs: 60_000 });
    await clock.advance(60_000 - (clock.now() % 60_000)); // start of a window
    await insert('l1', '10.244.50.0/24');
    await insert('l2', '10.244.51.0/24');
    await rejectsWith(insert('l3', '10.244.52.0/24'), 403, 'rateLimitExceeded');
    await c.routes.list({ project }, { autoPaginate: false }); // reads still have room
    await clock.advance(59_999);
    await rejectsWith(insert('l3', '10.244.52.0/24'), 403, 'rateLimitExceeded');
    await clock.advance(1);
    await insert('l3', '10.244.52.0/24');
    await insert('l4', '10.244.53.0/24');
    const res = await fetch(`${emu.endpoint}/compute/v1/projects/${project}/global/routes?requestId=0b1c2d3e-1111-4222-8333-444455556666`, {
      method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body: JSON.stringify(body('l5', '10.244.54.0/24')),
    });
    const err = (await res.json()) as { error: { errors: { message: string; domain: string; reason: string }[] } };
    assert.equal(res.status, 403);
    assert.deepEqual({ ...err.error.errors[0], message: undefined }, { domain: 'usageLimits', reason: 'rateLimitExceeded', message: undefined });
    assert.match(err.error.errors[0]!.message, /Quota exceeded for quota metric 'Queries'/);
    await settle();
  });

  test('instances: get, aggregated list with filter, and a deleted next hop warns on its routes', async () => {
    emu.admin.addInstance({ zone: 'us-east1-b', name: 'node-2', networkIP: '10.142.0.2', canIpForward: false, status: 'TERMINATED' });
    const [inst] = await c.instances.get({ project, zone: ZONE, instance: 'node-1' });
    assert.deepEqual([inst.canIpForward, inst.status, inst.networkInterfaces?.[0]?.networkIP], [true, 'RUNNING', '10.128.0.2']);
    const seen: string[] = [];
    for await (const [zone, scoped] of c.instances.aggregatedListAsync({ project, filter: 'status eq RUNNING' })) {
      for (const i of scoped.instances ?? []) seen.push(`${zone}/${i.name}`);
    }
    assert.deepEqual(seen, [`zones/${ZONE}/node-1`]);
    await insert('h1', '10.244.60.0/24');
    await settle();
    assert.deepEqual((await c.routes.get({ project, route: 'h1' }))[0].warnings, []);
    emu.admin.removeInstance(ZONE, 'node-1');
    const [orphan] = await c.routes.get({ project, route: 'h1' });
    assert.deepEqual(orphan.warnings?.map((w) => w.code), ['NEXT_HOP_INSTANCE_NOT_FOUND']);
  });

  test('faults: throttling, 5xx and dropped connections, in order, then normal service', async () => {
    emu.admin.injectFaults({ throttle: 1, serverErrors: 1, serverErrorStatus: 503, drop: 1 });
    const list = () => c.routes.list({ project }, { autoPaginate: false, retry: null });
    await rejectsWith(list(), 403, 'rateLimitExceeded');
    await rejectsWith(list(), 503, 'backendError');
    await assert.rejects(list(), (e: unknown) => (e as { code?: number }).code === 14); // UNAVAILABLE: no answer
    await list();
    assert.deepEqual(emu.admin.calls().map((x) => x.status), [403, 503, 0, 200]);
  });

  test('the call log records method, path with query, API method, status and time', async () => {
    emu.admin.clearCalls();
    await c.routes.list({ project, filter: 'name eq x', maxResults: 7 }, { autoPaginate: false });
    const [call] = emu.admin.calls();
    assert.deepEqual({ ...call, at: undefined, durationMs: undefined }, {
      method: 'GET', path: `/compute/v1/projects/${project}/global/routes?filter=name%20eq%20x&maxResults=7`, id: 'routes.list',
      status: 200, at: undefined, durationMs: undefined,
    });
    assert.equal(call!.at, clock.now());
  });
});

describe('gce emulator admin over HTTP', () => {
  test('seed, configure, inspect and reset without a token', async () => {
    const emu = await startGceEmulator({ operationTiming: { pendingMs: 0, runningMs: 0 } });
    try {
      const admin = async (method: string, path: string, json?: unknown): Promise<unknown> => {
        const res = await fetch(`${emu.endpoint}/_admin${path}`, { method, ...(json ? { body: JSON.stringify(json) } : {}) });
        assert.equal(res.status, 200, `${method} ${path}`);
        return res.json();
      };
      await admin('POST', '/networks', { name: 'net-b' });
      await admin('POST', '/instances', { zone: ZONE, name: 'n1', networkIP: '10.0.0.5', network: 'net-b', canIpForward: false });
      await admin('POST', '/routes', { name: 'foreign', destRange: '10.244.0.0/24', network: 'net-b', nextHopInstance: `zones/${ZONE}/instances/n1` });
      await admin('PUT', '/config', { quota: 7, pageSizeCap: 3, waitDeadlineMs: 10, operationTiming: { pendingMs: 1 }, rateLimits: { enabled: false } });
      await admin('POST', '/faults', { serverErrors: 1, latencyMs: 30 });
      const routes = (await admin('GET', '/routes')) as { items: { name: string; warnings?: { code: string }[] }[] };
      assert.deepEqual(routes.items.find((r) => r.name === 'foreign')?.warnings?.map((w) => w.code), ['NEXT_HOP_CANNOT_IP_FORWARD']);
      const api = await fetch(`${emu.endpoint}/compute/v1/projects/${emu.project}`, { headers: { authorization: 'Bearer any' } });
      assert.equal(api.status, 500, 'the injected fault');
      const project = (await (await fetch(`${emu.endpoint}/compute/v1/projects/${emu.project}`, { headers: { authorization: 'Bearer any' } })).json()) as { quotas: unknown[] };
      assert.deepEqual(project.quotas, [{ metric: 'ROUTES', limit: 7, usage: 3 }]);
      const log = ((await admin('GET', '/calls')) as { items: { status: number; durationMs: number }[] }).items;
      assert.deepEqual(log.map((x) => x.status), [500, 200]);
      assert.ok(log.every((x) => x.durationMs >= 30), 'every call waited out the injected latency');
      await admin('DELETE', '/routes/foreign');
      await admin('DELETE', `/instances/${ZONE}/n1`);
      await admin('POST', '/reset');
      assert.equal(((await admin('GET', '/routes')) as { items: unknown[] }).items.length, 1, 'back to the default route alone');
      assert.equal(((await admin('GET', '/calls')) as { items: unknown[] }).items.length, 0);
    } finally {
      await emu.close();
    }
  });
});
