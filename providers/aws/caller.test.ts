import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RetryableError } from '../../src/errors.ts';
import { silentLogger } from '../../src/observe/log.ts';
import { manualClock } from '../../test/emulators/aws-ec2/testkit.ts';
import { Ec2ApiError } from './api.ts';
import { outcomeCases } from '../shared/outcome-cases.ts';
import { classify, createCaller, groupOf } from './caller.ts';

const signal = new AbortController().signal;

function callerWith(opts: { maxInFlight?: number; attempts?: number } = {}) {
  const clock = manualClock();
  const caller = createCaller({
    buckets: { mutating: { capacity: 5, refillPerSecond: 1 }, describe: { capacity: 10, refillPerSecond: 2 } },
    maxInFlight: opts.maxInFlight ?? 8, retry: { baseMs: 10, maxMs: 10, attempts: opts.attempts ?? 5 }, clock, logger: silentLogger(),
  });
  return { clock, caller };
}

const failure = (kind: Ec2ApiError['kind'], code: string, status = kind === 'client' ? 400 : 503): Ec2ApiError => new Ec2ApiError(code, code, kind, status);

test('operations map to EC2 throttling groups', () => {
  assert.equal(groupOf('DescribeRouteTables'), 'describe');
  assert.equal(groupOf('DescribeInstances'), 'describe');
  for (const op of ['CreateRoute', 'DeleteRoute', 'ReplaceRoute', 'ModifyInstanceAttribute'] as const) assert.equal(groupOf(op), 'mutating');
});

describe('EC2 errors map onto the shared outcomes', () => {
  outcomeCases([
    { description: 'RequestLimitExceeded', err: failure('throttled', 'RequestLimitExceeded'), outcome: 'throttled', retried: true },
    { description: 'InternalError', err: failure('server', 'InternalError'), outcome: 'server_error', retried: true },
    { description: 'a dropped connection', err: failure('network', 'ECONNRESET'), outcome: 'network', retried: true },
    { description: 'a request timeout', err: failure('network', 'TimeoutError'), outcome: 'timeout', retried: true },
    { description: 'InvalidRoute.NotFound', err: failure('client', 'InvalidRoute.NotFound'), outcome: 'not_found', retried: false },
    { description: 'RouteAlreadyExists', err: failure('client', 'RouteAlreadyExists'), outcome: 'conflict', retried: false },
    { description: 'RouteLimitExceeded', err: failure('client', 'RouteLimitExceeded'), outcome: 'quota', retried: false },
    { description: 'UnauthorizedOperation', err: failure('client', 'UnauthorizedOperation', 403), outcome: 'denied', retried: false },
    { description: 'InvalidParameterValue', err: failure('client', 'InvalidParameterValue'), outcome: 'invalid', retried: false },
    { description: 'an unknown client code', err: failure('client', 'Gremlins'), outcome: 'other', retried: false },
    { description: 'not an EC2 error', err: new TypeError('bug'), outcome: 'other', retried: false },
  ], (err) => classify(err, 'CreateRoute'));
});

describe('retries and counts', () => {
  const cases: { description: string; errors: Ec2ApiError[]; result: 'ok' | 'client' | 'exhausted'; counts: Record<string, number> }[] = [
    { description: 'throttled, then ok', errors: [failure('throttled', 'RequestLimitExceeded')], result: 'ok', counts: { throttled: 1, ok: 1 } },
    { description: '5xx and a dropped connection, then ok', errors: [failure('server', 'InternalError'), failure('network', 'ECONNRESET')], result: 'ok', counts: { server_error: 1, network: 1, ok: 1 } },
    { description: 'a client error is not retried', errors: [failure('client', 'InvalidRoute.NotFound')], result: 'client', counts: { not_found: 1 } },
    { description: 'retries are bounded', errors: Array.from({ length: 9 }, () => failure('server', 'Unavailable')), result: 'exhausted', counts: { server_error: 5 } },
  ];
  for (const c of cases) {
    test(c.description, async () => {
      const { caller } = callerWith();
      const errors = [...c.errors];
      const run = caller.call('DeleteRoute', signal, async () => {
        const err = errors.shift();
        if (err) throw err;
        return 'done';
      });
      if (c.result === 'ok') assert.equal(await run, 'done');
      else if (c.result === 'client') await assert.rejects(run, Ec2ApiError);
      else await assert.rejects(run, RetryableError);
      assert.deepEqual(caller.counts().DeleteRoute, c.counts);
    });
  }
});

test('the token is taken late (beforeSend), and a throttling answer empties the bucket: the retry waits for refill', async () => {
  const { caller, clock } = callerWith();
  const sentAt: number[] = [];
  let first = true;
  await caller.call('CreateRoute', signal, async () => {
    await caller.beforeSend('CreateRoute', signal); // what api.ts does right before signing
    sentAt.push(clock.now());
    if (first) {
      first = false;
      throw failure('throttled', 'RequestLimitExceeded');
    }
  });
  assert.equal(sentAt.length, 2);
  assert.ok(sentAt[1]! - sentAt[0]! >= 1000, `retried after ${sentAt[1]! - sentAt[0]!} ms with 4 tokens left but drained (refill 1/s)`);
});

test('call() takes no token itself: only beforeSend does', async () => {
  const { caller, clock } = callerWith();
  const start = clock.now();
  for (let i = 0; i < 20; i++) await caller.call('CreateRoute', signal, async () => {});
  assert.equal(clock.now(), start, '20 calls past a bucket of 5 did not wait');
});

test('calls in flight are bounded per group', async () => {
  const { caller } = callerWith({ maxInFlight: 2 });
  let running = 0;
  let peak = 0;
  const slow = async (): Promise<void> => {
    running++;
    peak = Math.max(peak, running);
    await new Promise((resolve) => setImmediate(resolve));
    running--;
  };
  await Promise.all(Array.from({ length: 6 }, () => caller.call('CreateRoute', signal, slow)));
  assert.equal(peak, 2);
  running = 0;
  peak = 0;
  await Promise.all([...Array.from({ length: 2 }, () => caller.call('CreateRoute', signal, slow)), ...Array.from({ length: 2 }, () => caller.call('DescribeInstances', signal, slow))]);
  assert.equal(peak, 4, 'describes do not wait behind mutations');
});
