// The one route-status codec: every state round-trips, every malformed value is
// refused with an error naming the key, the field and the value.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidInputError } from '../errors.ts';
import {
  HEARTBEAT_KEY, ROUTE_STATES, decodeHeartbeat, decodeRouteStatus, decodeRouteStatuses, encodeHeartbeat, encodeRouteStatus, freshnessBoundMs, isProgrammed,
  sameRouteStatus, worstRouteState,
} from './route-status.ts';

const KEY = '10.244.3.0-24';

describe('route status codec', () => {
  for (const state of ROUTE_STATES) {
    test(`${state} round-trips byte for byte`, () => {
      const status = { state, tables: { 'rtb-1': state, 'rtb-2': 'programmed' as const }, reason: state === 'programmed' ? undefined : `why ${state}`, provider: 'aws', updated: '2026-12-07T12:00:00.000Z' };
      const text = encodeRouteStatus(status);
      assert.deepEqual(decodeRouteStatus(KEY, text), status);
      assert.equal(encodeRouteStatus(decodeRouteStatus(KEY, text)), text);
    });
  }

  test('the wire form is the one the controller has always written (reason null, key order)', () => {
    assert.equal(
      encodeRouteStatus({ state: 'programmed', tables: { 'rtb-1': 'programmed' }, provider: 'aws', updated: '2026-01-01T00:00:00.000Z' }),
      '{"state":"programmed","tables":{"rtb-1":"programmed"},"reason":null,"provider":"aws","updated":"2026-01-01T00:00:00.000Z"}',
    );
  });

  test('values written by hand without provider and time decode', () => {
    assert.deepEqual(decodeRouteStatus(KEY, '{"state":"pending","tables":{}}'), { state: 'pending', tables: {}, reason: undefined, provider: undefined, updated: undefined });
  });

  const malformed: { description: string; text: string; field: string }[] = [
    { description: 'not JSON', text: 'programmed', field: `route status ${KEY}` },
    { description: 'a JSON string', text: '"programmed"', field: `route status ${KEY}` },
    { description: 'null', text: 'null', field: `route status ${KEY}` },
    { description: 'an array', text: '[]', field: `route status ${KEY}` },
    { description: 'no state', text: '{"tables":{}}', field: `route status ${KEY}.state` },
    { description: 'an unknown state', text: '{"state":"routed","tables":{}}', field: `route status ${KEY}.state` },
    { description: 'state of the wrong case', text: '{"state":"Programmed","tables":{}}', field: `route status ${KEY}.state` },
    { description: 'no tables', text: '{"state":"programmed"}', field: `route status ${KEY}.tables` },
    { description: 'tables an array', text: '{"state":"programmed","tables":[]}', field: `route status ${KEY}.tables` },
    { description: 'a table with an unknown state', text: '{"state":"programmed","tables":{"rtb-1":"ok"}}', field: `route status ${KEY}.tables.rtb-1` },
    { description: 'reason a number', text: '{"state":"error","tables":{},"reason":5}', field: `route status ${KEY}.reason` },
    { description: 'provider an object', text: '{"state":"error","tables":{},"provider":{}}', field: `route status ${KEY}.provider` },
    { description: 'updated not a time', text: '{"state":"error","tables":{},"updated":"yesterday"}', field: `route status ${KEY}.updated` },
  ];
  for (const c of malformed) {
    test(`refuses ${c.description}, naming ${c.field}`, () => {
      assert.throws(() => decodeRouteStatus(KEY, c.text), (err: unknown) => {
        assert.ok(err instanceof InvalidInputError);
        assert.equal(err.field, c.field);
        assert.ok(err.message.includes(KEY));
        return true;
      });
    });
  }

  test('a listing keeps the values that decode and sets the others apart', () => {
    const read = decodeRouteStatuses([[KEY, '{"state":"programmed","tables":{}}'], ['10.244.4.0-24', 'garbage']]);
    assert.deepEqual([...read.statuses.keys()], [KEY]);
    assert.deepEqual([...read.unreadable.keys()], ['10.244.4.0-24']);
  });

  test('sameness ignores who wrote it and when, and the order of tables', () => {
    const a = { state: 'programmed' as const, tables: { a: 'programmed' as const, b: 'programmed' as const }, provider: 'aws', updated: '2026-01-01T00:00:00Z' };
    assert.ok(sameRouteStatus(a, { state: 'programmed', tables: { b: 'programmed', a: 'programmed' } }));
    assert.ok(!sameRouteStatus(a, { state: 'programmed', tables: { a: 'programmed' } }));
    assert.ok(!sameRouteStatus(a, { ...a, reason: 'x' }));
  });

  test('the controller\'s heartbeat sits beside the statuses, is read apart, and bounds their freshness', () => {
    const hb = { observed: '2026-12-07T12:00:00.000Z', resyncSeconds: 60, provider: 'aws' };
    assert.deepEqual(decodeHeartbeat(encodeHeartbeat(hb)), hb);
    const read = decodeRouteStatuses([[KEY, '{"state":"programmed","tables":{}}'], [HEARTBEAT_KEY, encodeHeartbeat(hb)]]);
    assert.deepEqual([...read.statuses.keys()], [KEY]);
    assert.equal(read.unreadable.size, 0);
    assert.deepEqual(read.heartbeat, hb);
    assert.equal(freshnessBoundMs(hb), 125_000);
    assert.throws(() => decodeHeartbeat('{"observed":"soon","resyncSeconds":60}'), /heartbeat\.observed/);
    assert.throws(() => decodeHeartbeat('{"observed":"2026-12-07T12:00:00Z","resyncSeconds":0}'), /heartbeat\.resyncSeconds/);
  });

  test('worst state and programmed', () => {
    assert.equal(worstRouteState(['programmed', 'overflow', 'pending']), 'overflow');
    assert.equal(worstRouteState([]), 'pending');
    assert.ok(isProgrammed({ state: 'programmed', tables: {} }));
    assert.ok(!isProgrammed(undefined));
  });
});
