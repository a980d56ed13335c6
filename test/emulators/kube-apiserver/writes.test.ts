// Writes as the apiserver answers them: system fields, optimistic concurrency,
// the Lease strategy's 422/400, the node status strategy, the three patch
// types (and 415 for others), and the exact Status bodies of the failures.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { kubeHarness } from './fixture.ts';
import type { JsonObject } from './status.ts';

interface Obj { metadata: { name: string; resourceVersion: string; uid?: string; creationTimestamp?: string; generation?: number; annotations?: Record<string, string>; labels?: Record<string, string> }; spec?: Record<string, unknown>; status?: { conditions?: { type: string; status: string; reason?: string }[] } }
const SMP = 'application/strategic-merge-patch+json';
const lease = (name: string, renewTime: string, rv?: string): JsonObject => ({
  apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, ...(rv ? { resourceVersion: rv } : {}) },
  spec: { holderIdentity: 'a', leaseDurationSeconds: 15, renewTime },
});

describe('kube-apiserver emulator: writes', () => {
  const h = kubeHarness();

  test('create fills uid and creationTimestamp; generation tracks spec changes only', async () => {
    const ds = { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'ds' }, spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } } } } };
    const created = (await h.raw('POST', '/apis/apps/v1/namespaces/default/daemonsets', { body: ds })).json<Obj>();
    assert.match(created.metadata.uid ?? '', /^[0-9a-f-]{36}$/);
    assert.match(created.metadata.creationTimestamp ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(created.metadata.generation, 1);
    const relabeled = await h.raw('PATCH', '/apis/apps/v1/namespaces/default/daemonsets/ds', { body: { metadata: { labels: { x: 'y' } } }, contentType: SMP });
    assert.equal(relabeled.json<Obj>().metadata.generation, 1);
    const respec = await h.raw('PATCH', '/apis/apps/v1/namespaces/default/daemonsets/ds', { body: { spec: { minReadySeconds: 5 } }, contentType: SMP });
    assert.equal(respec.json<Obj>().metadata.generation, 2);
    assert.equal((await h.raw('POST', '/apis/apps/v1/namespaces/nowhere/daemonsets', { body: ds })).json<{ message: string }>().message, 'namespaces "nowhere" not found');
  });

  test('PUT with a stale resourceVersion is a 409 Conflict; an unchanged object keeps its RV', async () => {
    const created = (await h.raw('POST', '/api/v1/nodes', { body: { metadata: { name: 'w-1' } } })).json<Obj>();
    const stale = created.metadata.resourceVersion;
    const first = await h.raw('PUT', '/api/v1/nodes/w-1', { body: { ...created, metadata: { ...created.metadata, labels: { v: '1' } } } });
    assert.equal(first.status, 200);
    const again = await h.raw('PUT', '/api/v1/nodes/w-1', { body: { ...created, metadata: { ...created.metadata, labels: { v: '2' } } } });
    assert.equal(again.status, 409);
    assert.deepEqual(again.json(), {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
      message: 'Operation cannot be fulfilled on nodes "w-1": the object has been modified; please apply your changes to the latest version and try again',
      reason: 'Conflict', details: { name: 'w-1', kind: 'nodes' }, code: 409,
    });
    assert.notEqual(first.json<Obj>().metadata.resourceVersion, stale);
    const noop = await h.raw('PUT', '/api/v1/nodes/w-1', { body: { ...first.json<Obj>(), metadata: { ...first.json<Obj>().metadata, resourceVersion: undefined } } });
    assert.equal(noop.json<Obj>().metadata.resourceVersion, first.json<Obj>().metadata.resourceVersion, 'Node allows an unconditional update; no change, no write');
    const dup = await h.raw('POST', '/api/v1/nodes', { body: { metadata: { name: 'w-1' } } });
    assert.deepEqual([dup.status, dup.json<{ reason: string; message: string }>().reason, dup.json<{ message: string }>().message], [409, 'AlreadyExists', 'nodes "w-1" already exists']);
    const missing = await h.raw('GET', '/api/v1/nodes/nope');
    assert.deepEqual(missing.json(), { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'nodes "nope" not found', reason: 'NotFound', details: { name: 'nope', kind: 'nodes' }, code: 404 });
  });

  test('Lease: 400 for a MicroTime with three fractional digits, 422 for a PUT without resourceVersion', async () => {
    const path = '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases';
    const bad = await h.raw('POST', path, { body: lease('l', '2026-01-02T03:04:05.278Z') });
    assert.equal(bad.status, 400);
    assert.equal(bad.json<{ reason: string }>().reason, 'BadRequest');
    assert.match(bad.json<{ message: string }>().message, /cannot parse "\.278Z" as "\.000000"/);
    const good = await h.raw('POST', path, { body: lease('l', '2026-01-02T03:04:05.278000Z') });
    assert.equal(good.status, 201);
    const unconditional = await h.raw('PUT', `${path}/l`, { body: lease('l', '2026-01-02T03:04:06.000000Z') });
    assert.equal(unconditional.status, 422);
    assert.deepEqual(unconditional.json(), {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
      message: 'Lease.coordination.k8s.io "l" is invalid: metadata.resourceVersion: Invalid value: 0x0: must be specified for an update',
      reason: 'Invalid',
      details: { name: 'l', group: 'coordination.k8s.io', kind: 'Lease', causes: [{ reason: 'FieldValueInvalid', message: 'Invalid value: 0x0: must be specified for an update', field: 'metadata.resourceVersion' }] },
      code: 422,
    });
    const rv = good.json<Obj>().metadata.resourceVersion;
    assert.equal((await h.raw('PUT', `${path}/l`, { body: lease('l', '2026-01-02T03:04:06.000000Z', rv) })).status, 200);
    const stale = await h.raw('PUT', `${path}/l`, { body: lease('l', '2026-01-02T03:04:07.000000Z', rv) });
    assert.equal(stale.json<{ message: string }>().message, 'Operation cannot be fulfilled on leases.coordination.k8s.io "l": the object has been modified; please apply your changes to the latest version and try again');
  });

  test('strategic merge on nodes/status: conditions merge by type, null deletes an annotation, spec changes are dropped', async () => {
    await h.raw('POST', '/api/v1/nodes', { body: {
      metadata: { name: 'w-2', annotations: { keep: '1', drop: '2' } }, spec: { podCIDR: '10.244.2.0/24' },
      status: { conditions: [{ type: 'Ready', status: 'True' }, { type: 'NetworkUnavailable', status: 'True', reason: 'NoRouteCreated' }] },
    } });
    const patched = await h.raw('PATCH', '/api/v1/nodes/w-2/status', { contentType: SMP, body: {
      metadata: { annotations: { drop: null, added: 'x' } }, spec: { podCIDR: '10.9.9.0/24' },
      status: { conditions: [{ type: 'NetworkUnavailable', status: 'False', reason: 'FlannelIsUp' }] },
    } });
    const n = patched.json<Obj>();
    assert.deepEqual(n.metadata.annotations, { keep: '1', added: 'x' });
    assert.equal(n.spec?.podCIDR, '10.244.2.0/24');
    assert.deepEqual(n.status?.conditions?.map((c) => `${c.type}=${c.status}/${c.reason ?? ''}`), ['Ready=True/', 'NetworkUnavailable=False/FlannelIsUp']);
    const main = await h.raw('PATCH', '/api/v1/nodes/w-2', { contentType: SMP, body: { spec: { unschedulable: true }, status: { conditions: [{ type: 'Ready', status: 'False' }] } } });
    assert.equal(main.json<Obj>().spec?.unschedulable, true);
    assert.equal(main.json<Obj>().status?.conditions?.[0]?.status, 'True', 'the main endpoint keeps the stored status');
  });

  test('merge patch replaces lists; json patch applies ops and fails its test op with 422', async () => {
    const merged = await h.raw('PATCH', '/api/v1/nodes/w-2/status', { contentType: 'application/merge-patch+json', body: { status: { conditions: [{ type: 'Only', status: 'True' }] } } });
    assert.deepEqual(merged.json<Obj>().status?.conditions?.map((c) => c.type), ['Only']);
    const rv = merged.json<Obj>().metadata.resourceVersion;
    const ok = await h.raw('PATCH', '/api/v1/nodes/w-2', { contentType: 'application/json-patch+json', body: [
      { op: 'test', path: '/metadata/resourceVersion', value: rv }, { op: 'add', path: '/metadata/labels', value: { 'a/b': 'c' } },
      { op: 'copy', from: '/metadata/labels/a~1b', path: '/metadata/labels/d' },
    ] });
    assert.deepEqual(ok.json<Obj>().metadata.labels, { 'a/b': 'c', d: 'c' });
    const failed = await h.raw('PATCH', '/api/v1/nodes/w-2', { contentType: 'application/json-patch+json', body: [{ op: 'test', path: '/metadata/resourceVersion', value: rv }] });
    assert.deepEqual([failed.status, failed.json<{ reason: string }>().reason], [422, 'Invalid']);
    const preconditioned = await h.raw('PATCH', '/api/v1/nodes/w-2', { contentType: SMP, body: { metadata: { resourceVersion: rv, labels: { e: 'f' } } } });
    assert.equal(preconditioned.status, 409, 'a resourceVersion inside the patch is a precondition');
  });

  test('events: create, and list by involvedObject field selector', async () => {
    const event = (name: string, node: string): JsonObject => ({
      metadata: { name, namespace: 'default' }, involvedObject: { kind: 'Node', name: node }, reason: 'FailedToCreateRoute', type: 'Warning',
      source: { component: 'route_controller' }, message: 'x', eventTime: null,
    });
    assert.equal((await h.raw('POST', '/api/v1/namespaces/default/events', { body: event('e-1', 'w-1') })).status, 201);
    assert.equal((await h.raw('POST', '/api/v1/namespaces/default/events', { body: event('e-2', 'w-2') })).status, 201);
    const listed = (await h.raw('GET', '/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3Dw-2,reason%3DFailedToCreateRoute')).json<{ items: Obj[] }>();
    assert.deepEqual(listed.items.map((e) => e.metadata.name), ['e-2']);
  });

  test('415 for other patch content types, with the accepted list', async () => {
    for (const type of ['text/plain', 'application/apply-patch+yaml']) {
      const res = await h.raw('PATCH', '/api/v1/nodes/w-2', { contentType: type, body: '{}' });
      assert.equal(res.status, 415);
      assert.deepEqual(res.json(), {
        kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'UnsupportedMediaType', code: 415,
        message: 'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json',
      });
    }
    assert.equal((await h.raw('PATCH', '/api/v1/nodes/w-2', { contentType: `${SMP}; charset=utf-8`, body: {} })).status, 200);
  });
});
