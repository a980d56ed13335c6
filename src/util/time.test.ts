import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_TIMEOUT_MS, realClock, setLongTimeout, timeoutSignal } from './time.ts';

const DAY = 86_400_000;

describe('timers that cannot overflow', () => {
  const cases: { description: string; ms: number; firesAt: number | undefined }[] = [
    { description: 'a short delay fires on time', ms: 1500, firesAt: 1500 },
    { description: 'exactly the largest setTimeout delay', ms: MAX_TIMEOUT_MS, firesAt: MAX_TIMEOUT_MS },
    { description: '1000h (setTimeout alone would fire after 1 ms)', ms: 1000 * 3_600_000, firesAt: 1000 * 3_600_000 },
    { description: 'negative counts as 0', ms: -5, firesAt: 0 },
    { description: 'NaN counts as 0', ms: Number.NaN, firesAt: 0 },
    { description: 'Infinity never fires', ms: Infinity, firesAt: undefined },
  ];
  for (const c of cases) {
    test(c.description, (t) => {
      t.mock.timers.enable({ apis: ['setTimeout'] });
      let fired = false;
      setLongTimeout(() => { fired = true; }, c.ms);
      const advance = (ms: number): void => {
        for (let left = ms; left > 0; left -= MAX_TIMEOUT_MS) t.mock.timers.tick(Math.min(left, MAX_TIMEOUT_MS));
      };
      if (c.firesAt === undefined) {
        advance(100 * DAY);
        assert.equal(fired, false);
        return;
      }
      if (c.firesAt > 0) {
        advance(c.firesAt - 1);
        assert.equal(fired, false, 'not before it is due');
        advance(1);
      } else t.mock.timers.tick(0);
      assert.equal(fired, true, 'when it is due');
    });
  }

  test('1000h does not fire before it is due, and cancel stops it', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    let fired = false;
    const cancel = setLongTimeout(() => { fired = true; }, 1000 * 3_600_000);
    t.mock.timers.tick(MAX_TIMEOUT_MS);
    t.mock.timers.tick(1000 * 3_600_000 - MAX_TIMEOUT_MS - 1);
    assert.equal(fired, false, 'not 1 ms before it is due');
    cancel();
    t.mock.timers.tick(MAX_TIMEOUT_MS);
    assert.equal(fired, false, 'cancelled');
  });

  test('realClock.sleep of 1000h is still pending after a real 50 ms, and aborts', async () => {
    const abort = new AbortController();
    let settled = false;
    const sleeping = realClock.sleep(1000 * 3_600_000, abort.signal).finally(() => { settled = true; });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(settled, false, 'a long sleep must not fire at once');
    abort.abort(new Error('stop'));
    await assert.rejects(sleeping, /stop/);
  });

  test('timeoutSignal of 1000h has not aborted after a real 50 ms; a short one aborts with TimeoutError', async () => {
    const long = timeoutSignal(1000 * 3_600_000);
    const short = timeoutSignal(10);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(long.aborted, false);
    assert.equal(short.aborted, true);
    assert.equal((short.reason as DOMException).name, 'TimeoutError');
  });
});
