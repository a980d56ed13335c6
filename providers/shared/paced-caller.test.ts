import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RetryableError } from '../../src/errors.ts';
import { silentLogger } from '../../src/observe/log.ts';
import { manualClock } from '../../test/emulators/aws-ec2/testkit.ts';
import { OUTCOMES, type Verdict } from './outcomes.ts';
import { PacedCaller, type PacedCallerOptions } from './paced-caller.ts';

type Op = 'read' | 'write';
const signal = new AbortController().signal;

class Throttled extends Error {}
class Answer extends Error {}

function callerWith(o: Partial<PacedCallerOptions<Op, Op>> = {}) {
  const clock = manualClock();
  const classified: unknown[] = [];
  const classify = (err: unknown): Verdict => {
    classified.push(err);
    if (err instanceof Throttled) return { outcome: 'throttled', error: new RetryableError('throttled', { cause: err }) };
    if (err instanceof Answer) return { outcome: 'not_found' };
    return { outcome: 'other' };
  };
  const caller = new PacedCaller<Op, Op>({
    api: 'test', groupOf: (op) => op, buckets: { read: { capacity: 2, refillPerSecond: 1 }, write: { capacity: 1, refillPerSecond: 1 } },
    classify, retry: { baseMs: 1, maxMs: 1, attempts: 4 }, clock, logger: silentLogger(), ...o,
  });
  return { caller, clock, classified };
}

test('every call takes a token of its group first: past the burst, calls are spaced by the refill', async () => {
  const { caller, clock } = callerWith();
  const at: number[] = [];
  for (let i = 0; i < 4; i++) await caller.call('read', signal, async () => at.push(clock.now()));
  assert.deepEqual(at.map((t) => t - at[0]!), [0, 0, 1000, 2000]);
  const before = clock.now();
  await caller.call('write', signal, async () => {});
  assert.equal(clock.now(), before, 'writes have their own bucket');
});

test('a throttled answer is counted, drains the bucket, and the retry waits for refill', async () => {
  const { caller, clock } = callerWith();
  const at: number[] = [];
  await caller.call('read', signal, async () => {
    at.push(clock.now());
    if (at.length === 1) throw new Throttled();
  });
  assert.ok(at[1]! - at[0]! >= 1000, `the retry went out ${at[1]! - at[0]!} ms later, with a token left but drained`);
  assert.deepEqual(caller.counts(), { read: { throttled: 1, ok: 1 } });
});

test('an answer that is not retryable is thrown as it is, counted once', async () => {
  const { caller } = callerWith();
  await assert.rejects(caller.call('write', signal, async () => { throw new Answer(); }), Answer);
  assert.deepEqual(caller.counts(), { write: { not_found: 1 } });
});

test('a call its caller aborted is counted aborted, without asking the cloud classification', async () => {
  const { caller, classified } = callerWith();
  const ac = new AbortController();
  await assert.rejects(caller.call('read', ac.signal, async () => {
    ac.abort(new Error('stop'));
    throw new Error('the SDK noticed');
  }));
  assert.deepEqual(caller.counts(), { read: { aborted: 1 } });
  assert.equal(classified.length, 0);
});

test('tokenAt send: call() takes no token; beforeSend does', async () => {
  const { caller, clock } = callerWith({ tokenAt: 'send' });
  for (let i = 0; i < 5; i++) await caller.call('write', signal, async () => {});
  assert.equal(clock.now(), manualClock().now(), 'no wait without beforeSend');
  await caller.call('write', signal, () => caller.beforeSend('write', signal));
  await caller.call('write', signal, () => caller.beforeSend('write', signal));
  assert.equal(clock.now() - manualClock().now(), 1000, 'the second send waited for refill');
});

test('an operation with no bucket is a clear error, not an unpaced call', async () => {
  const { caller } = callerWith({ groupOf: () => 'nowhere' as Op });
  await assert.rejects(caller.call('read', signal, async () => {}), /no rate limit for read/);
});

test('the outcome labels are one small fixed set, shared by every cloud', () => {
  assert.equal(new Set(OUTCOMES).size, OUTCOMES.length);
  for (const o of OUTCOMES) assert.match(o, /^[a-z_]+$/);
  assert.ok(OUTCOMES.includes('ok') && OUTCOMES.includes('other'));
});
