import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../src/observe/log.ts';
import { manualClock } from '../../test/emulators/aws-ec2/testkit.ts';
import { outcomeCases } from '../shared/outcome-cases.ts';
import { classify, createCaller, groupOf } from './caller.ts';
import { GceApiError, GceThrottledError, GceTransientError } from './wire.ts';

const signal = new AbortController().signal;

test('inserts and deletes spend the write quota, everything else the read quota', () => {
  assert.equal(groupOf('routes.insert'), 'write');
  assert.equal(groupOf('routes.delete'), 'write');
  for (const op of ['routes.list', 'routes.get', 'networks.get', 'projects.get', 'instances.aggregatedList', 'globalOperations.wait'] as const) {
    assert.equal(groupOf(op), 'read');
  }
});

describe('compute errors map onto the shared outcomes', () => {
  outcomeCases([
    { description: '403 rateLimitExceeded', err: new GceThrottledError('throttled'), outcome: 'throttled', retried: true },
    { description: '503', err: new GceTransientError('server_error', '503'), outcome: 'server_error', retried: true },
    { description: '400 resourceNotReady', err: new GceTransientError('busy', '400'), outcome: 'busy', retried: true },
    { description: 'unreachable', err: new GceTransientError('network', 'down'), outcome: 'network', retried: true },
    { description: 'deadline exceeded', err: new GceTransientError('timeout', 'slow'), outcome: 'timeout', retried: true },
    { description: '404', err: new GceApiError(404, 'notFound', 'gone'), outcome: 'not_found', retried: false },
    { description: '409 alreadyExists', err: new GceApiError(409, 'alreadyExists', 'there'), outcome: 'conflict', retried: false },
    { description: '403 forbidden', err: new GceApiError(403, 'forbidden', 'no'), outcome: 'denied', retried: false },
    { description: '400 invalid', err: new GceApiError(400, 'invalid', 'bad'), outcome: 'invalid', retried: false },
    { description: 'anything else', err: new Error('?'), outcome: 'other', retried: false },
  ], (err) => classify(err, () => 0));
});

test('a throttled call waits for the next quota window, not for backoff', async () => {
  const clock = manualClock(60_000 * 1000 + 15_000); // 15 s into a minute
  const caller = createCaller({
    buckets: { read: { capacity: 10, refillPerSecond: 10 }, write: { capacity: 10, refillPerSecond: 10 } },
    windowMs: 60_000, retry: { attempts: 3, baseMs: 10, maxMs: 10 }, clock, logger: silentLogger(),
  });
  const at: number[] = [];
  await caller.call('routes.list', signal, async () => {
    at.push(clock.now());
    if (at.length === 1) throw new GceThrottledError('rateLimitExceeded');
  });
  assert.equal(at[1]! - at[0]!, 45_000);
  assert.deepEqual(caller.counts(), { 'routes.list': { throttled: 1, ok: 1 } });
});
