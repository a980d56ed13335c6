import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventsFor } from './node-events.ts';
import type { PublishedRouteStatus } from '../lease/route-status.ts';

const st = (state: PublishedRouteStatus['state'], reason?: string): PublishedRouteStatus => ({ state, tables: { 'rtb-1': state, 'rtb-2': 'programmed' }, reason });

test('an Event per bad status, once per state and reason; good states post nothing', () => {
  const puts = new Map([['a', st('error', 'InvalidParameterValue')], ['b', st('overflow')], ['c', st('conflict', 'a foreign route')], ['d', st('programmed')], ['e', st('pending')]]);
  const got = eventsFor(puts, new Map());
  assert.deepEqual(got.map((e) => [e.key, e.reason]), [['a', 'FailedToCreateRoute'], ['b', 'RouteTableFull'], ['c', 'RouteConflict']]);
  assert.equal(got[0]!.message, 'route for a in rtb-1: error (InvalidParameterValue)');
  const posted = new Map(got.map((e) => [e.key, e.mark]));
  assert.deepEqual(eventsFor(puts, posted), [], 'the same statuses again: no new Event');
  assert.deepEqual(eventsFor(new Map([['a', st('error', 'another reason')]]), posted).map((e) => e.key), ['a'], 'a new reason is a new Event');
});
