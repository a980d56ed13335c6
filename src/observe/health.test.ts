import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../util/fake-clock.ts';
import { Health } from './health.ts';

test('health: liveness fails only when a watched loop stops turning for 3 × period + deadline', async () => {
  const cases = [
    { description: 'ticked just now', advanceMs: 0, live: true },
    { description: 'at the limit', advanceMs: 3 * 10_000 + 5_000, live: true },
    { description: 'past the limit', advanceMs: 3 * 10_000 + 5_001, live: false },
  ];
  for (const c of cases) {
    const clock = new FakeClock();
    const health = new Health({ clock });
    health.watch('reconcile', { periodMs: 10_000, deadlineMs: 5_000 });
    await clock.advance(c.advanceMs);
    const out = health.liveness('running');
    assert.equal(out.status === 200, c.live, c.description);
    if (!c.live) assert.match(out.body, /reconcile loop has not turned for 35\.0s|reconcile loop has not turned for 35s/, c.description);
  }
});

test('health: readiness is the last success within period + deadline, reasons fail it, details do not', async () => {
  const clock = new FakeClock();
  const health = new Health({ clock });
  health.expect('pass', { periodMs: 60_000, deadlineMs: 30_000 });
  assert.equal(health.readiness('leading').status, 503, 'nothing succeeded yet');
  health.failed('DescribeRouteTables: 500');
  assert.match(health.readiness('leading').body, /no pass has succeeded yet: DescribeRouteTables: 500/);
  health.succeeded();
  assert.deepEqual(health.readiness('leading'), { status: 200, body: 'ok: leading\n' });
  health.failed('timeout');
  await clock.advance(90_000);
  assert.equal(health.readiness('leading').status, 200, 'a failure inside the window keeps the last success');
  await clock.advance(1);
  assert.match(health.readiness('leading').body, /^not ok: last successful pass 90s ago \(limit 90s\): timeout/);
  health.succeeded();
  health.setDetail('refused', '2 kernel changes refused');
  assert.deepEqual(health.readiness('leading'), { status: 200, body: 'ok: leading; 2 kernel changes refused\n' });
  health.setReason('tables', 'manages no route table');
  assert.equal(health.readiness('leading').status, 503);
  health.setReason('tables', undefined);
  health.expectNothing();
  health.setDetail('refused', undefined);
  assert.deepEqual(health.readiness('standby'), { status: 200, body: 'ok: standby\n' });
  assert.equal(health.liveness('standby').status, 200, 'liveness does not follow passes');
});
