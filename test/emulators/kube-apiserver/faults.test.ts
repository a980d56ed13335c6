// Injected faults as clients meet them: 429 with Retry-After (kubectl waits and
// retries), 5xx as ApiException, latency, and dropped watch streams (the
// client-node informer reconnects from its last resourceVersion).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiException, CoreV1Api, makeInformer, type V1Node } from '@kubernetes/client-node';
import { eventually, kubeHarness } from './fixture.ts';

describe('kube-apiserver emulator: faults', () => {
  const h = kubeHarness();

  test('429 TooManyRequests carries Retry-After; kubectl honours it and retries', async () => {
    h.api.admin.injectFaults({ throttle: { count: 1, retryAfterSeconds: 2 } });
    const throttled = await h.raw('GET', '/api/v1/nodes');
    assert.equal(throttled.status, 429);
    assert.equal(throttled.headers['retry-after'], '2');
    assert.deepEqual(throttled.json(), {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Too many requests, please try again later.',
      reason: 'TooManyRequests', details: { retryAfterSeconds: 2 }, code: 429,
    });
    assert.equal((await h.raw('GET', '/api/v1/nodes')).status, 200, 'only the next request is throttled');
    await h.kubectl(['get', 'namespaces', '-o', 'name']);
    h.api.admin.clearCalls();
    h.api.admin.injectFaults({ throttle: { count: 1, retryAfterSeconds: 1 } });
    const started = Date.now();
    const out = await h.kubectl(['get', 'namespaces', '-o', 'name']);
    assert.match(out.stdout, /namespace\/kube-system/, out.stderr);
    assert.ok(Date.now() - started >= 1000, 'kubectl waited Retry-After before retrying');
    assert.deepEqual(h.api.admin.calls().filter((c) => c.path.startsWith('/api/v1/namespaces')).map((c) => c.status), [429, 200]);
  });

  test('5xx reaches client-node as ApiException with the Status body; latency delays answers', async () => {
    const core = h.kubeConfig().makeApiClient(CoreV1Api);
    h.api.admin.injectFaults({ errors: { count: 1, code: 500 } });
    await assert.rejects(core.listNode(), (err: unknown) => {
      assert.ok(err instanceof ApiException);
      assert.equal(err.code, 500);
      assert.equal((JSON.parse(String(err.body)) as { reason: string }).reason, 'InternalError');
      return true;
    });
    h.api.admin.injectFaults({ latencyMs: 300 });
    const started = Date.now();
    await core.listNode();
    assert.ok(Date.now() - started >= 300);
    h.api.admin.injectFaults({ latencyMs: 0 });
  });

  test('dropped watches: the informer reconnects from its last RV and misses nothing', async () => {
    const kc = h.kubeConfig();
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNode({ body: { metadata: { name: 'f-1' } } });
    const informer = makeInformer(kc, '/api/v1/nodes', () => core.listNode());
    const added: string[] = [];
    informer.on('add', (n: V1Node) => added.push(n.metadata?.name ?? ''));
    await informer.start();
    await eventually(() => h.api.admin.openWatches === 1, 3000, 'the informer watch');
    h.api.admin.clearCalls();
    assert.equal(h.api.admin.dropWatches(), 1);
    await core.createNode({ body: { metadata: { name: 'f-2' } } });
    await eventually(() => added.includes('f-2'), 5000, 'the add after the drop');
    await informer.stop();
    const requests = h.api.admin.calls().filter((c) => c.path.startsWith('/api/v1/nodes?'));
    const rewatch = requests.find((c) => c.path.includes('watch=true'));
    assert.ok(rewatch, `calls: ${requests.map((c) => c.path).join(', ')}`);
    assert.match(rewatch.path, /resourceVersion=\d+/, 'the new watch resumes from an RV');
    assert.deepEqual(added, ['f-1', 'f-2']);
  });
});
