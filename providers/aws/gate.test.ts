import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RetryableError } from '../../src/errors.ts';
import { silentLogger } from '../../src/observe/log.ts';
import { manualClock } from '../../test/emulators/aws-ec2/testkit.ts';
import { CallCounter } from '../shared/calls.ts';
import { TokenBucket } from '../shared/token-bucket.ts';
import { Ec2ApiError } from './api.ts';
import { ApiGate, classOf } from './gate.ts';

const signal = new AbortController().signal;

function gateWith(opts: { maxInFlight?: number; attempts?: number } = {}) {
  const clock = manualClock();
  const counter = new CallCounter();
  const buckets = {
    mutating: new TokenBucket({ capacity: 5, refillPerSecond: 1, clock }),
    describe: new TokenBucket({ capacity: 10, refillPerSecond: 2, clock }),
  };
  const gate = new ApiGate({ counter, buckets, maxInFlight: opts.maxInFlight ?? 8, retry: { clock, baseMs: 10, maxMs: 10, attempts: opts.attempts ?? 5 }, logger: silentLogger() });
  return { clock, counter, gate };
}

const failure = (kind: Ec2ApiError['kind'], code: string): Ec2ApiError => new Ec2ApiError(code, code, kind, kind === 'client' ? 400 : 503);

test('operations map to EC2 throttling classes', () => {
  assert.equal(classOf('DescribeRouteTables'), 'describe');
  assert.equal(classOf('DescribeInstances'), 'describe');
  for (const op of ['CreateRoute', 'DeleteRoute', 'ReplaceRoute', 'ModifyInstanceAttribute'] as const) assert.equal(classOf(op), 'mutating');
});

describe('retries and counts', () => {
  const cases: { description: string; errors: Ec2ApiError[]; result: 'ok' | 'client' | 'exhausted'; counts: Record<string, number> }[] = [
    { description: 'throttled, then ok', errors: [failure('throttled', 'RequestLimitExceeded')], result: 'ok', counts: { throttled: 1, ok: 1 } },
    { description: '5xx and a dropped connection, then ok', errors: [failure('server', 'InternalError'), failure('network', 'ECONNRESET')], result: 'ok', counts: { 'error:InternalError': 1, 'error:ECONNRESET': 1, ok: 1 } },
    { description: 'a client error is not retried', errors: [failure('client', 'InvalidRoute.NotFound')], result: 'client', counts: { 'error:InvalidRoute.NotFound': 1 } },
    { description: 'retries are bounded', errors: Array.from({ length: 9 }, () => failure('server', 'Unavailable')), result: 'exhausted', counts: { 'error:Unavailable': 5 } },
  ];
  for (const c of cases) {
    test(c.description, async () => {
      const { gate, counter } = gateWith();
      const errors = [...c.errors];
      const run = gate.call('DeleteRoute', signal, async () => {
        const err = errors.shift();
        if (err) throw err;
        return 'done';
      });
      if (c.result === 'ok') assert.equal(await run, 'done');
      else if (c.result === 'client') await assert.rejects(run, Ec2ApiError);
      else await assert.rejects(run, RetryableError);
      assert.deepEqual(counter.counts().DeleteRoute, c.counts);
    });
  }
});

test('a throttling answer empties the local bucket: the retry waits for refill', async () => {
  const { gate, clock } = gateWith();
  const sentAt: number[] = [];
  let first = true;
  await gate.call('CreateRoute', signal, async () => {
    await gate.beforeSend('CreateRoute', signal); // what api.ts does right before signing
    sentAt.push(clock.now());
    if (first) {
      first = false;
      throw failure('throttled', 'RequestLimitExceeded');
    }
  });
  assert.equal(sentAt.length, 2);
  assert.ok(sentAt[1]! - sentAt[0]! >= 1000, `retried after ${sentAt[1]! - sentAt[0]!} ms with 4 tokens left but drained (refill 1/s)`);
});

test('calls in flight are bounded per class', async () => {
  const { gate } = gateWith({ maxInFlight: 2 });
  let running = 0;
  let peak = 0;
  const slow = async (): Promise<void> => {
    running++;
    peak = Math.max(peak, running);
    await new Promise((resolve) => setImmediate(resolve));
    running--;
  };
  await Promise.all(Array.from({ length: 6 }, () => gate.call('CreateRoute', signal, slow)));
  assert.equal(peak, 2);
  running = 0;
  peak = 0;
  await Promise.all([...Array.from({ length: 2 }, () => gate.call('CreateRoute', signal, slow)), ...Array.from({ length: 2 }, () => gate.call('DescribeInstances', signal, slow))]);
  assert.equal(peak, 4, 'describes do not wait behind mutations');
});
