import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidInputError } from '../errors.ts';
import { type LeaseTimingFlags, renewMarginMs } from './lease-timing.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;

const cases: { description: string; flags: LeaseTimingFlags; want: number | 'error' }[] = [
  { description: 'defaults: 24h TTL, 60-minute margin', flags: { ttlMs: 24 * HOUR, marginMinutes: 60, marginGiven: false }, want: 60 * MIN },
  { description: 'default margin shrinks to half a 30m TTL', flags: { ttlMs: 30 * MIN, marginMinutes: 60, marginGiven: false }, want: 15 * MIN },
  { description: 'default margin shrinks to half the smallest TTL (2m)', flags: { ttlMs: 2 * MIN, marginMinutes: 60, marginGiven: false }, want: 1 * MIN },
  { description: 'a given margin of exactly half the TTL is fine', flags: { ttlMs: 2 * HOUR, marginMinutes: 60, marginGiven: true }, want: 60 * MIN },
  { description: 'a given margin above half the TTL is refused', flags: { ttlMs: 30 * MIN, marginMinutes: 60, marginGiven: true }, want: 'error' },
  { description: 'a given margin of 16 with a 30m TTL is refused', flags: { ttlMs: 30 * MIN, marginMinutes: 16, marginGiven: true }, want: 'error' },
];

for (const c of cases) {
  test(`renew margin: ${c.description}`, () => {
    if (c.want !== 'error') {
      assert.equal(renewMarginMs(c.flags), c.want);
      return;
    }
    assert.throws(() => renewMarginMs(c.flags), (err: unknown) =>
      err instanceof InvalidInputError && err.field === '--subnet-lease-renew-margin' &&
      err.message.includes('--subnet-lease-ttl 30m') && err.message.includes(String(c.flags.marginMinutes)));
  });
}
