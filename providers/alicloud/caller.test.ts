import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../src/observe/log.ts';
import { manualClock } from '../../test/emulators/aws-ec2/testkit.ts';
import { AlicloudApiError, TransientApiError } from './api.ts';
import { outcomeCases } from '../shared/outcome-cases.ts';
import { classify, createCaller } from './caller.ts';
import { resolveOptions } from './options.ts';

const signal = new AbortController().signal;

describe('VPC API errors map onto the shared outcomes', () => {
  const answer = (code: string, status = 400): AlicloudApiError => new AlicloudApiError(code, code, { status });
  outcomeCases([
    { description: 'Throttling.User', err: new TransientApiError('throttled', 'Throttling.User', 'slow down', {}), outcome: 'throttled', retried: true },
    { description: 'InternalError', err: new TransientApiError('server_error', 'InternalError', '500', {}), outcome: 'server_error', retried: true },
    { description: 'ECONNRESET', err: new TransientApiError('network', 'ECONNRESET', 'reset', {}), outcome: 'network', retried: true },
    { description: 'ReadTimeout', err: new TransientApiError('network', 'ReadTimeout', 'slow', {}), outcome: 'timeout', retried: true },
    { description: 'IncorrectRouteEntryStatus (busy)', err: answer('IncorrectRouteEntryStatus'), outcome: 'busy', retried: true },
    { description: 'InvalidRouteEntry.NotFound', err: answer('InvalidRouteEntry.NotFound', 404), outcome: 'not_found', retried: false },
    { description: 'InvalidRouteTableId.NotFound', err: answer('InvalidRouteTableId.NotFound', 404), outcome: 'not_found', retried: false },
    { description: 'a duplicate entry', err: answer('RouterEntryConflict.Duplicated'), outcome: 'conflict', retried: false },
    { description: 'QuotaExceeded.routeEntry', err: answer('QuotaExceeded.routeEntry'), outcome: 'quota', retried: false },
    { description: 'Forbidden.RAM', err: answer('Forbidden.RAM', 403), outcome: 'denied', retried: false },
    { description: 'InvalidParameter', err: answer('InvalidParameter'), outcome: 'invalid', retried: false },
    { description: 'not an API error', err: new TypeError('bug'), outcome: 'other', retried: false },
  ], (err) => classify(err, 'CreateRouteEntry'));
});

test('each API has its own bucket', async () => {
  const clock = manualClock();
  const o = resolveOptions({ regionId: 'cn-hangzhou', vpcId: 'vpc-1', clusterName: 'c', clusterNetworks: ['10.244.0.0/16'], clock, logger: silentLogger() });
  const caller = createCaller(o);
  const start = clock.now();
  for (let i = 0; i < o.rateLimits.CreateRouteEntry.capacity; i++) await caller.call('CreateRouteEntry', signal, async () => {});
  for (let i = 0; i < o.rateLimits.DeleteRouteEntry.capacity; i++) await caller.call('DeleteRouteEntry', signal, async () => {});
  assert.equal(clock.now(), start, 'two bursts, two buckets: no wait');
  await caller.call('CreateRouteEntry', signal, async () => {});
  assert.ok(clock.now() > start, 'past the burst, the next call waited');
  assert.deepEqual(caller.counts().CreateRouteEntry, { ok: o.rateLimits.CreateRouteEntry.capacity + 1 });
});
