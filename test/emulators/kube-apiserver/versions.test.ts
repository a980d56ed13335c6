// resourceVersion semantics against the real etcd: list RV is the store
// revision, watches resume from an RV without replay, DELETED carries the
// deletion revision, bookmarks only when allowed, paging pins the first RV,
// and compacted history answers 410 Expired (list, continue, watch).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startEtcd, type EtcdServer } from '../../support/etcd.ts';
import { before, after } from 'node:test';
import { CoreV1Api, makeInformer, type V1Node } from '@kubernetes/client-node';
import { eventually, kubeHarness, rawWatch } from './fixture.ts';
import { findResource } from './resources.ts';
import type { JsonObject } from './status.ts';

interface List { metadata: { resourceVersion: string; continue?: string; remainingItemCount?: number }; items: { metadata: { name: string; resourceVersion: string } }[] }
const node = (name: string, labels: Record<string, string> = {}): JsonObject => ({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels } });

describe('kube-apiserver emulator: resource versions', () => {
  const h = kubeHarness({ bookmarkIntervalMs: 150 });

  test('list RV is the etcd revision at read time, not the newest item RV', async () => {
    const created = await h.raw('POST', '/api/v1/nodes', { body: node('rv-a') });
    assert.equal(created.status, 201);
    const cm = await h.raw('POST', '/api/v1/namespaces/default/configmaps', { body: { metadata: { name: 'later' } } });
    const list = (await h.raw('GET', '/api/v1/nodes')).json<List>();
    const nodeRV = Number(created.json<List['items'][0]>().metadata.resourceVersion);
    assert.ok(Number(list.metadata.resourceVersion) >= Number(cm.json<List['items'][0]>().metadata.resourceVersion));
    assert.ok(Number(list.metadata.resourceVersion) > nodeRV);
    assert.equal(list.items.find((i) => i.metadata.name === 'rv-a')?.metadata.resourceVersion, String(nodeRV));
  });

  test('watch from an RV sends only later changes; without RV it replays the state as ADDED', async () => {
    const rv = (await h.raw('GET', '/api/v1/nodes')).json<List>().metadata.resourceVersion;
    await h.raw('POST', '/api/v1/nodes', { body: node('rv-b') });
    const resumed = rawWatch(h.api, `/api/v1/nodes?watch=1&resourceVersion=${rv}&timeoutSeconds=2`);
    const fresh = rawWatch(h.api, '/api/v1/watch/nodes?timeoutSeconds=2');
    await eventually(() => resumed.events.length >= 1 && fresh.events.length >= 2, 3000, 'watch events');
    const deleted = await h.raw('DELETE', '/api/v1/nodes/rv-b');
    assert.equal(deleted.json<{ status: string }>().status, 'Success');
    await eventually(() => resumed.events.some((e) => e.type === 'DELETED'), 3000, 'DELETED');
    resumed.close();
    fresh.close();
    assert.deepEqual(resumed.events.map((e) => `${e.type} ${e.object.metadata?.name}`), ['ADDED rv-b', 'DELETED rv-b']);
    assert.deepEqual(fresh.events.slice(0, 2).map((e) => `${e.type} ${e.object.metadata?.name}`).sort(), ['ADDED rv-a', 'ADDED rv-b']);
    const [added, gone] = resumed.events;
    assert.ok(Number(gone!.object.metadata?.resourceVersion) > Number(added!.object.metadata?.resourceVersion), 'DELETED carries the deletion revision');
  });

  test('bookmarks only with allowWatchBookmarks; timeoutSeconds ends the stream', async () => {
    const started = Date.now();
    const withMarks = rawWatch(h.api, '/api/v1/nodes?watch=true&resourceVersion=1&allowWatchBookmarks=true&timeoutSeconds=1');
    const without = rawWatch(h.api, '/api/v1/nodes?watch=true&resourceVersion=1&timeoutSeconds=1');
    await Promise.all([withMarks.ended, without.ended]);
    assert.ok(Date.now() - started >= 900 && Date.now() - started < 3000, 'ended by timeoutSeconds');
    const marks = withMarks.events.filter((e) => e.type === 'BOOKMARK');
    assert.ok(marks.length >= 2, `bookmarks: ${marks.length}`);
    assert.equal(marks[0]!.object.kind, 'Node');
    assert.equal(without.events.filter((e) => e.type === 'BOOKMARK').length, 0);
  });

  test('label selectors on watch: leaving the selection is DELETED, entering is ADDED', async () => {
    await h.raw('POST', '/api/v1/nodes', { body: node('sel-a', { pool: 'blue' }) });
    const rv = (await h.raw('GET', '/api/v1/nodes')).json<List>().metadata.resourceVersion;
    const w = rawWatch(h.api, `/api/v1/nodes?watch=true&resourceVersion=${rv}&labelSelector=pool%3Dblue&timeoutSeconds=3`);
    await new Promise((r) => setTimeout(r, 100));
    const relabel = (pool: string): Promise<unknown> => h.raw('PATCH', '/api/v1/nodes/sel-a', { body: { metadata: { labels: { pool } } }, contentType: 'application/merge-patch+json' });
    await relabel('green');
    await relabel('blue');
    await eventually(() => w.events.length >= 2, 3000, 'selector transitions');
    w.close();
    assert.deepEqual(w.events.map((e) => e.type), ['DELETED', 'ADDED']);
    const byField = (await h.raw('GET', '/api/v1/nodes?fieldSelector=metadata.name%3Dsel-a')).json<List>();
    assert.deepEqual(byField.items.map((i) => i.metadata.name), ['sel-a']);
    assert.equal((await h.raw('GET', '/api/v1/nodes?fieldSelector=spec.bogus%3D1')).status, 400);
  });

  test('limit/continue pages a pinned snapshot and counts what remains', async () => {
    for (const n of ['pg-1', 'pg-2', 'pg-3', 'pg-4', 'pg-5']) await h.raw('POST', '/api/v1/nodes', { body: node(n, { paged: 'yes' }) });
    const first = (await h.raw('GET', '/api/v1/nodes?labelSelector=paged&limit=2')).json<List>();
    assert.deepEqual(first.items.map((i) => i.metadata.name), ['pg-1', 'pg-2']);
    assert.ok(first.metadata.continue);
    await h.raw('POST', '/api/v1/nodes', { body: node('pg-6', { paged: 'yes' }) });
    const names = first.items.map((i) => i.metadata.name);
    let token: string | undefined = first.metadata.continue;
    while (token) {
      const page: List = (await h.raw('GET', `/api/v1/nodes?labelSelector=paged&limit=2&continue=${encodeURIComponent(token)}`)).json<List>();
      assert.equal(page.metadata.resourceVersion, first.metadata.resourceVersion, 'every page is read at the first RV');
      names.push(...page.items.map((i) => i.metadata.name));
      token = page.metadata.continue;
    }
    assert.deepEqual(names, ['pg-1', 'pg-2', 'pg-3', 'pg-4', 'pg-5']);
    const unfiltered = (await h.raw('GET', '/api/v1/nodes?limit=1')).json<List>();
    assert.equal(unfiltered.metadata.remainingItemCount, (await h.raw('GET', '/api/v1/nodes')).json<List>().items.length - 1);
  });
});

describe('kube-apiserver emulator: compacted history (private etcd)', () => {
  let etcd: EtcdServer | undefined;
  before(async () => {
    etcd = await startEtcd();
  });
  after(async () => {
    await etcd?.destroy();
  });
  const h = kubeHarness({ etcdEndpoint: () => etcd!.endpoint });

  test('410 Expired for an exact list, a continue token and a watch from before the compaction', async () => {
    for (const n of ['c-1', 'c-2', 'c-3']) await h.raw('POST', '/api/v1/nodes', { body: node(n) });
    const first = (await h.raw('GET', '/api/v1/nodes?limit=1')).json<List>();
    const oldRV = first.items[0]!.metadata.resourceVersion;
    await h.raw('PATCH', '/api/v1/nodes/c-1', { body: { metadata: { labels: { touched: 'yes' } } }, contentType: 'application/merge-patch+json' });
    await h.api.admin.compact();

    const exact = await h.raw('GET', `/api/v1/nodes?limit=5&resourceVersion=${oldRV}`);
    assert.equal(exact.status, 410);
    assert.deepEqual(exact.json(), { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'The resourceVersion for the provided list is too old.', reason: 'Expired', code: 410 });
    const cont = await h.raw('GET', `/api/v1/nodes?limit=1&continue=${encodeURIComponent(first.metadata.continue!)}`);
    assert.equal(cont.status, 410);
    const fresh = cont.json<{ metadata: { continue?: string } }>().metadata.continue;
    assert.ok(fresh, 'a fresh continue token comes with the 410');
    assert.equal((await h.raw('GET', `/api/v1/nodes?limit=5&continue=${encodeURIComponent(fresh)}`)).status, 200);

    const w = rawWatch(h.api, `/api/v1/nodes?watch=true&resourceVersion=${oldRV}`);
    assert.equal(await w.ended, 200, 'the watch answers 200 and then the error event');
    assert.deepEqual(w.events.map((e) => [e.type, e.object.code, e.object.reason]), [['ERROR', 410, 'Expired']]);
    const notOlder = await h.raw('GET', `/api/v1/nodes?resourceVersion=${oldRV}`);
    assert.equal(notOlder.status, 200, 'RV n without a limit means not older than n');
  });

  test('client-node informer: a watch answered 410 makes it list again', async () => {
    const kc = h.kubeConfig();
    const core = kc.makeApiClient(CoreV1Api);
    const informer = makeInformer(kc, '/api/v1/nodes', () => core.listNode());
    const added: string[] = [];
    informer.on('add', (n: V1Node) => added.push(n.metadata?.name ?? ''));
    await informer.start();
    await eventually(() => h.api.admin.openWatches === 1, 3000, 'the informer watch');
    // The reconnect waits 400 ms in the emulator; meanwhile history moves on and is compacted.
    h.api.admin.injectFaults({ latencyMs: 400 });
    h.api.admin.clearCalls();
    h.api.admin.dropWatches();
    const nodes = findResource('', 'v1', 'nodes')!;
    await h.api.store.create(nodes, undefined, { metadata: { name: 'c-late' } });
    // A second write, so the compaction lands past the watch's start revision (etcd keeps the compacted revision itself).
    await h.api.store.guaranteedUpdate(nodes, undefined, 'c-late', (n) => ({ ...n, metadata: { ...(n.metadata as JsonObject), labels: { late: 'yes' } } }));
    await h.api.admin.compact();
    await eventually(() => added.includes('c-late'), 5000, 'the relisted node');
    h.api.admin.injectFaults({ latencyMs: 0 });
    await informer.stop();
    const paths = h.api.admin.calls().map((c) => c.path).filter((p) => p.startsWith('/api/v1/nodes'));
    const expiredWatch = paths.findIndex((p) => p.includes('watch=true') && /resourceVersion=\d/.test(p));
    assert.ok(expiredWatch >= 0 && paths.slice(expiredWatch + 1).some((p) => !p.includes('watch=')), `calls: ${paths.join(', ')}`);
  });
});
