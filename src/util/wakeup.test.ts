import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Wakeup } from './wakeup.ts';

const signal = new AbortController().signal;

test('wakes collapse into one; the debounce is asked at wake time; timeout when nobody wakes', async () => {
  const w = new Wakeup();
  assert.equal(await w.wait(signal, 20), 'timeout');
  w.wake();
  w.wake();
  let asked = 0;
  const started = Date.now();
  const waiting = w.wait(signal, 10_000, () => { asked++; return 30; });
  setTimeout(() => w.wake(), 10); // during the debounce: folded into this pass
  assert.equal(await waiting, 'woken');
  assert.equal(asked, 1);
  assert.ok(Date.now() - started >= 25, 'waited the debounce');
  assert.equal(await w.wait(signal, 20), 'timeout', 'the wake during the debounce did not cause a second pass');
});

test('an abort rejects the wait', async () => {
  const ac = new AbortController();
  const w = new Wakeup();
  const waiting = w.wait(ac.signal, 10_000);
  ac.abort(new Error('stop'));
  await assert.rejects(waiting, /stop/);
});
