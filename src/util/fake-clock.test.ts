import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from './fake-clock.ts';

const T0 = 1_000_000;

describe('FakeClock', () => {
  test('now() moves only by advance()', async () => {
    const clock = new FakeClock(T0);
    assert.equal(clock.now(), T0);
    await clock.advance(250);
    assert.equal(clock.now(), T0 + 250);
    await assert.rejects(clock.advance(-1), RangeError);
  });

  const cases: { description: string; sleeps: number[]; advance: number; woke: number[]; pending: number[] }[] = [
    { description: 'nothing due yet: nothing wakes', sleeps: [100], advance: 99, woke: [], pending: [T0 + 100] },
    { description: 'exactly due: wakes', sleeps: [100], advance: 100, woke: [T0 + 100], pending: [] },
    { description: 'in due-time order, whatever the call order', sleeps: [300, 100, 200], advance: 1000, woke: [T0 + 100, T0 + 200, T0 + 300], pending: [] },
    { description: 'only the due ones', sleeps: [50, 500], advance: 100, woke: [T0 + 50], pending: [T0 + 500] },
    { description: 'zero or negative: at once, no advance needed', sleeps: [0, -5], advance: 0, woke: [T0, T0], pending: [] },
  ];
  for (const c of cases) {
    test(c.description, async () => {
      const clock = new FakeClock(T0);
      const woke: number[] = [];
      for (const ms of c.sleeps) void clock.sleep(ms).then(() => woke.push(clock.now()));
      await clock.advance(c.advance);
      assert.deepEqual(woke, c.woke, 'now() reads each sleeper\'s due time when it wakes');
      assert.deepEqual(clock.pending(), c.pending);
    });
  }

  test('sleeps due at the same time wake in call order', async () => {
    const clock = new FakeClock(T0);
    const order: string[] = [];
    void clock.sleep(10).then(() => order.push('a'));
    void clock.sleep(10).then(() => order.push('b'));
    await clock.advance(10);
    assert.deepEqual(order, ['a', 'b']);
  });

  test('a loop that sleeps again runs each pass inside one advance, at its own time', async () => {
    const clock = new FakeClock(T0);
    const ticks: number[] = [];
    const ac = new AbortController();
    const loop = (async () => {
      for (;;) {
        await clock.sleep(30, ac.signal);
        await Promise.resolve(); // a callback chain between the wake and the next sleep
        ticks.push(clock.now() - T0);
      }
    })();
    await clock.advance(100);
    assert.deepEqual(ticks, [30, 60, 90]);
    assert.deepEqual(clock.pending(), [T0 + 120]);
    ac.abort(new Error('stop'));
    await assert.rejects(loop, /stop/);
  });

  test('an abort rejects with the reason and drops the sleeper; an aborted signal rejects at once', async () => {
    const clock = new FakeClock(T0);
    const ac = new AbortController();
    const sleeping = clock.sleep(1000, ac.signal);
    assert.equal(clock.pending().length, 1);
    ac.abort(new Error('stop'));
    await assert.rejects(sleeping, /stop/);
    assert.deepEqual(clock.pending(), []);
    await assert.rejects(clock.sleep(5, ac.signal), /stop/);
    assert.deepEqual(clock.pending(), []);
  });
});
