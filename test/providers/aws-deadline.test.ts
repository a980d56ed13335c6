// A stalled EC2 answer really aborts the call (issue 18): without
// throwOnRequestTimeout the SDK only prints a warning past requestTimeout and keeps
// waiting, so a stalled API hung the controller's pass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startAwsWorld } from '../e2e/controller-kit.ts';

test('aws: a request past --cloud-timeout fails (retried, counted), it does not wait for the late answer', async (t) => {
  const world = await startAwsWorld({ tables: 1, quota: 50, instances: 1, limits: false });
  t.after(() => world.close());
  const provider = world.provider('AKIDDEADLINE', { requestTimeoutMs: 300, retry: { attempts: 2, baseMs: 50, maxMs: 100 } });
  await world.admin.setFaults({ latencyMs: 4000 });
  const started = Date.now();
  const outcome = await provider.listRoutes(world.tables[0]!, new AbortController().signal).then(() => 'answered', (err: Error) => err.message);
  const ms = Date.now() - started;
  await world.admin.setFaults({ latencyMs: 0 });
  t.diagnostic(`stalled call: ${outcome} after ${ms} ms`);
  assert.notEqual(outcome, 'answered', 'the late answer must not be waited for');
  assert.match(outcome, /ETIMEDOUT|Timeout/);
  assert.ok(ms < 2500, `gave up after ${ms} ms (two attempts of 300 ms; the answer comes at 4000 ms)`);
  const counts = provider.calls();
  assert.ok(Object.values(counts).some((byOutcome) => Object.keys(byOutcome).some((o) => o !== 'ok')), JSON.stringify(counts));
});
