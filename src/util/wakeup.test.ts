import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from './fake-clock.ts';
import { Wakeup } from './wakeup.ts';

const signal = new AbortController().signal;

test('wakes collapse into one; the debounce is asked at wake time; timeout when nobody wakes', async () => {
  const clock = new FakeClock();
  const w = new Wakeup();
  const idle = w.wait(signal, 20, 0, clock);
  await clock.advance(20);
  assert.equal(await idle, 'timeout');
  w.wake();
  w.wake();
  let asked = 0;
  const started = clock.now();
  let result: string | undefined;
  const waiting = w.wait(signal, 10_000, () => { asked++; return 30; }, clock).then((r) => (result = r));
  await clock.advance(10);
  w.wake(); // during the debounce: folded into this pass
  await clock.advance(19);
  assert.equal(result, undefined, 'still in the debounce');
  await clock.advance(1);
  assert.equal(await waiting, 'woken');
  assert.equal(clock.now() - started, 30, 'woke exactly when the debounce ended');
  assert.equal(asked, 1);
  const next = w.wait(signal, 20, 0, clock);
  await clock.advance(20);
  assert.equal(await next, 'timeout', 'the wake during the debounce did not cause a second pass');
});

test('an abort rejects the wait', async () => {
  const ac = new AbortController();
  const w = new Wakeup();
  const waiting = w.wait(ac.signal, 10_000);
  ac.abort(new Error('stop'));
  await assert.rejects(waiting, /stop/);
});
