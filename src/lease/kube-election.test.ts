// Kubernetes Lease election: the pure pieces as tables, the algorithm against an
// in-memory Lease API (compare-and-swap on resourceVersion, as the apiserver does) on
// the fake clock, so every takeover and loss is asserted at its exact time.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConflictError, InvalidInputError, RetryableError } from '../errors.ts';
import { FakeClock } from '../util/fake-clock.ts';
import type { Leadership } from './election.ts';
import { type ElectionTimings, KubeLeaseElector, holdingRecord, observe, planLeaseWrite, releasedRecord, validateElectionTimings } from './kube-election.ts';
import { ApiException } from '@kubernetes/client-node';
import { type KubeLeaseApi, type LeaseRecord, type LeaseRef, type StoredLease, formatMicroTime, leaseApiError, microTimeText, parseMicroTime } from './kube-lease-api.ts';

const T0 = Date.UTC(2025, 0, 1, 10, 0, 0);
const SIX_DIGITS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

describe('election timings', () => {
  const cases: { description: string; t: ElectionTimings; field?: string }[] = [
    { description: "client-go's defaults", t: { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 } },
    { description: 'short test timings', t: { leaseDurationMs: 1_500, renewDeadlineMs: 1_000, retryPeriodMs: 200 } },
    { description: 'lease duration equal to the renew deadline', t: { leaseDurationMs: 10_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 }, field: '--leader-elect-lease-duration' },
    { description: 'renew deadline equal to 1.2 × retry period', t: { leaseDurationMs: 15_000, renewDeadlineMs: 2_400, retryPeriodMs: 2_000 }, field: '--leader-elect-renew-deadline' },
    { description: 'a zero retry period', t: { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 0 }, field: '--leader-elect-retry-period' },
    { description: 'a NaN lease duration', t: { leaseDurationMs: Number.NaN, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 }, field: '--leader-elect-lease-duration' },
  ];
  for (const c of cases) {
    test(c.field ? `refuses ${c.description}, naming ${c.field} and the rule's flags` : `accepts ${c.description}`, () => {
      if (!c.field) return validateElectionTimings(c.t);
      assert.throws(() => validateElectionTimings(c.t), (err: unknown) => {
        assert.ok(err instanceof InvalidInputError);
        assert.equal(err.field, c.field);
        for (const flag of ['--leader-elect-lease-duration', '--leader-elect-renew-deadline', '--leader-elect-retry-period']) assert.ok(err.message.includes(flag), err.message);
        return true;
      });
    });
  }
});

describe('MicroTime', () => {
  const formats: [number, string][] = [
    [0, '1970-01-01T00:00:00.000000Z'],
    [Date.UTC(2026, 0, 2, 3, 4, 5, 278), '2026-01-02T03:04:05.278000Z'],
    [Date.UTC(2026, 0, 2, 3, 4, 5, 278) + 0.123, '2026-01-02T03:04:05.278123Z'],
    [Date.UTC(2026, 0, 2, 3, 4, 5, 999) + 0.9996, '2026-01-02T03:04:06.000000Z'],
    [Date.UTC(2024, 1, 29, 23, 59, 59, 1), '2024-02-29T23:59:59.001000Z'],
  ];
  for (const [ms, text] of formats) {
    test(`formatMicroTime(${ms}) = ${text}`, () => {
      assert.equal(formatMicroTime(ms), text);
      assert.match(text, SIX_DIGITS);
    });
  }
  for (const bad of [Number.NaN, -1, Number.POSITIVE_INFINITY, 253402300800000]) {
    test(`formatMicroTime refuses ${bad}`, () => assert.throws(() => formatMicroTime(bad), InvalidInputError));
  }

  const parses: [string, number | undefined][] = [
    ['2026-01-02T03:04:05.278123Z', Date.UTC(2026, 0, 2, 3, 4, 5, 278) + 0.123],
    ['2026-01-02T03:04:05.278Z', Date.UTC(2026, 0, 2, 3, 4, 5, 278)],
    ['2026-01-02T03:04:05Z', Date.UTC(2026, 0, 2, 3, 4, 5)],
    ['2026-01-02T03:04:05.278123456Z', Date.UTC(2026, 0, 2, 3, 4, 5, 278) + 0.123456],
    ['2026-01-02T05:04:05.000000+02:00', Date.UTC(2026, 0, 2, 3, 4, 5)],
    ['2026-01-02t03:04:05.5z', Date.UTC(2026, 0, 2, 3, 4, 5, 500)],
    ['2026-01-02 03:04:05Z', undefined],
    ['2026-13-02T03:04:05Z', undefined],
    ['yesterday', undefined],
    ['', undefined],
  ];
  for (const [text, ms] of parses) {
    test(`parseMicroTime(${JSON.stringify(text)})`, () => {
      const got = parseMicroTime(text);
      if (ms === undefined) assert.equal(got, undefined);
      else assert.ok(got !== undefined && Math.abs(got - ms) < 1e-3, `${got} ≠ ${ms}`);
    });
  }

  test('microTimeText keeps the raw string client-node hands over, formats a Date, and is empty for anything else', () => {
    assert.equal(microTimeText('2026-01-02T03:04:05.278123Z'), '2026-01-02T03:04:05.278123Z');
    assert.equal(microTimeText(new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 278))), '2026-01-02T03:04:05.278000Z');
    assert.equal(microTimeText(undefined), '');
    assert.equal(microTimeText(new Date(Number.NaN)), '');
    assert.equal(microTimeText(12), '');
  });
});

describe('Lease API errors', () => {
  const status = (code: number, reason: string, message: string): string => JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message });
  const cases: { description: string; err: unknown; type: new (...args: never[]) => Error; text: string; retryAfterMs?: number }[] = [
    { description: '409 Conflict', err: new ApiException(409, 'x', status(409, 'Conflict', 'the object has been modified'), {}), type: ConflictError, text: 'replace Lease kube-system/l: 409 Conflict: the object has been modified' },
    { description: '429 with Retry-After', err: new ApiException(429, 'x', status(429, 'TooManyRequests', 'Too many requests'), { 'retry-after': '2' }), type: RetryableError, text: 'replace Lease kube-system/l: 429 TooManyRequests: Too many requests', retryAfterMs: 2_000 },
    { description: '503 without Retry-After', err: new ApiException(503, 'x', status(503, 'ServiceUnavailable', 'unavailable'), {}), type: RetryableError, text: 'replace Lease kube-system/l: 503 ServiceUnavailable: unavailable' },
    { description: '500 whose body is not a Status', err: new ApiException(500, 'x', '<html>', {}), type: RetryableError, text: 'replace Lease kube-system/l: 500' },
    { description: '403 Forbidden', err: new ApiException(403, 'x', status(403, 'Forbidden', 'cannot update resource "leases"'), {}), type: Error, text: 'replace Lease kube-system/l: 403 Forbidden: cannot update resource "leases"' },
    { description: 'no answer (a network error)', err: new TypeError('fetch failed'), type: RetryableError, text: 'replace Lease kube-system/l: fetch failed' },
  ];
  for (const c of cases) {
    test(`${c.description} → ${c.type.name}`, () => {
      const err = leaseApiError('replace Lease kube-system/l', c.err);
      assert.equal(err.constructor, c.type);
      assert.equal(err.message, c.text);
      assert.equal(err.cause, c.err);
      if (err instanceof RetryableError) assert.equal(err.retryAfterMs, c.retryAfterMs);
    });
  }
});

const rec = (holderIdentity: string, renewTime: string, more: Partial<LeaseRecord> = {}): LeaseRecord =>
  ({ holderIdentity, leaseDurationSeconds: 15, acquireTime: '2025-01-01T09:00:00.000000Z', renewTime, leaseTransitions: 3, ...more });

describe('lease planning', () => {
  const me = { identity: 'me', leaseDurationSeconds: 15 };
  const cases: { description: string; observed: { record: LeaseRecord; at: number }; now: number; want: 'wait' | Partial<LeaseRecord> }[] = [
    { description: 'another holder seen changing 14.999 s ago: wait', observed: { record: rec('x', 'r1'), at: T0 }, now: T0 + 14_999, want: 'wait' },
    { description: 'another holder unchanged for exactly 15 s: take over, one more transition', observed: { record: rec('x', 'r1'), at: T0 }, now: T0 + 15_000, want: { holderIdentity: 'me', acquireTime: formatMicroTime(T0 + 15_000), leaseTransitions: 4 } },
    { description: 'the holder wrote a 60 s duration: its own duration counts', observed: { record: rec('x', 'r1', { leaseDurationSeconds: 60 }), at: T0 }, now: T0 + 59_000, want: 'wait' },
    { description: 'released (no holder): take over at once', observed: { record: rec('', 'r1', { leaseDurationSeconds: 1 }), at: T0 }, now: T0, want: { holderIdentity: 'me', leaseTransitions: 4 } },
    { description: 'ours: renew, keeping acquireTime and transitions', observed: { record: rec('me', 'r1'), at: T0 }, now: T0 + 30_000, want: { holderIdentity: 'me', acquireTime: '2025-01-01T09:00:00.000000Z', leaseTransitions: 3, renewTime: formatMicroTime(T0 + 30_000) } },
  ];
  for (const c of cases) {
    test(c.description, () => {
      const step = planLeaseWrite(c.observed, { ...me, now: c.now });
      if (c.want === 'wait') {
        assert.deepEqual(step, { kind: 'wait', holder: c.observed.record.holderIdentity, expiresAt: c.observed.at + c.observed.record.leaseDurationSeconds * 1000 });
        return;
      }
      assert.equal(step.kind, 'write');
      if (step.kind !== 'write') return;
      assert.deepEqual(step.record, { ...c.observed.record, leaseDurationSeconds: 15, renewTime: formatMicroTime(c.now), acquireTime: formatMicroTime(c.now), ...c.want });
    });
  }

  test('a new Lease: held by us, acquire = renew = now, no transitions, the duration rounded up to whole seconds', () => {
    assert.deepEqual(holdingRecord(undefined, { identity: 'me', leaseDurationSeconds: 2, now: T0 + 0.5 }),
      { holderIdentity: 'me', leaseDurationSeconds: 2, acquireTime: '2025-01-01T10:00:00.000500Z', renewTime: '2025-01-01T10:00:00.000500Z', leaseTransitions: 0 });
  });

  test('released: no holder, one second, transitions kept', () => {
    assert.deepEqual(releasedRecord(rec('me', 'r1'), T0), { holderIdentity: '', leaseDurationSeconds: 1, acquireTime: formatMicroTime(T0), renewTime: formatMicroTime(T0), leaseTransitions: 3 });
  });

  test('observe keeps the time a record was first seen until any field changes', () => {
    const first = observe(undefined, rec('x', 'r1'), T0);
    assert.deepEqual(first, { record: rec('x', 'r1'), at: T0 });
    assert.equal(observe(first, rec('x', 'r1'), T0 + 9_000), first);
    assert.deepEqual(observe(first, rec('x', 'r2'), T0 + 9_000), { record: rec('x', 'r2'), at: T0 + 9_000 });
    assert.equal(observe(first, rec('x', 'r1', { leaseTransitions: 4 }), T0 + 9_000).at, T0 + 9_000);
  });
});

/** An error to throw, a call that never answers, or one that answers after `slowMs` of the fake clock. */
type Fault = Error | 'hang' | { readonly slowMs: number };

/** One Lease in memory with the apiserver's compare-and-swap; faults injected per call; `cut` makes one elector's calls hang. */
class FakeLeaseApi {
  stored: StoredLease | undefined;
  #rv = 100;
  readonly faults: { read: Fault[]; create: Fault[]; replace: Fault[] } = { read: [], create: [], replace: [] };
  /** Every fault list answers this for as long as it is set. */
  always: Fault | undefined;
  readonly writes: { by: string; at: number; record: LeaseRecord }[] = [];
  /** Runs before a create's own write (e.g. a rival creating first). */
  beforeCreate: (() => void) | undefined;
  readonly clock: FakeClock;
  constructor(clock: FakeClock) {
    this.clock = clock;
  }

  /** What a client of this API (named `by`) sees; `cut` lets a test stop it from reaching the apiserver. */
  client(by: string): KubeLeaseApi & { cut: boolean } {
    const c = {
      cut: false,
      read: async (_ref: LeaseRef, signal: AbortSignal): Promise<StoredLease | undefined> => {
        await this.#fault('read', signal, c.cut);
        return this.stored;
      },
      create: async (_ref: LeaseRef, record: LeaseRecord, signal: AbortSignal): Promise<StoredLease> => {
        await this.#fault('create', signal, c.cut);
        this.beforeCreate?.();
        if (this.stored) throw new ConflictError('leases "l" already exists');
        return this.put(record, by);
      },
      replace: async (_ref: LeaseRef, current: StoredLease, record: LeaseRecord, signal: AbortSignal): Promise<StoredLease> => {
        await this.#fault('replace', signal, c.cut);
        if (current.resourceVersion !== this.stored?.resourceVersion) throw new ConflictError('the object has been modified');
        return this.put(record, by);
      },
    };
    return c;
  }

  put(record: LeaseRecord, by = 'test'): StoredLease {
    this.stored = { resourceVersion: String(++this.#rv), record };
    this.writes.push({ by, at: this.clock.now(), record });
    return this.stored;
  }

  async #fault(kind: 'read' | 'create' | 'replace', signal: AbortSignal, cut: boolean): Promise<void> {
    const f = cut ? 'hang' : (this.always ?? this.faults[kind].shift());
    if (f === 'hang') {
      await new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)));
    } else if (f && 'slowMs' in f) {
      await this.clock.sleep(f.slowMs, signal);
    } else if (f) {
      throw f;
    }
  }
}

/** Why a replica's leadership ended. */
const lostWhy = (r: Replica): string => String((r.leadership?.lost.reason as Error).message);

interface Replica {
  readonly api: ReturnType<FakeLeaseApi['client']>;
  readonly elector: KubeLeaseElector;
  readonly events: { msg: string; at: number; fields: Record<string, unknown> | undefined }[];
  /** Stops the campaign (and the renewals of a leader: a SIGKILL, as far as the Lease can tell). */
  readonly stop: AbortController;
  leadership?: Leadership;
  acquiredAt?: number;
  lostAt?: number;
}

function setup(timings: Partial<ElectionTimings> = {}) {
  const clock = new FakeClock(T0);
  const fake = new FakeLeaseApi(clock);
  const replica = (identity: string): Replica => {
    const events: Replica['events'] = [];
    const api = fake.client(identity);
    const elector = new KubeLeaseElector({
      api, namespace: 'kube-system', name: 'tartan-controller', identity, clock, random: () => 0,
      leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000, ...timings,
      onEvent: (msg, fields) => events.push({ msg, at: clock.now(), fields }),
    });
    return { api, elector, events, stop: new AbortController() };
  };
  /** Starts a campaign that records when it won and when it lost. */
  const campaign = (r: Replica): void => {
    r.elector.campaign(r.stop.signal).then((l) => {
      r.leadership = l;
      r.acquiredAt = clock.now();
      l.lost.addEventListener('abort', () => (r.lostAt = clock.now()));
    }, () => {});
  };
  const advanceTo = (t: number): Promise<void> => clock.advance(T0 + t - clock.now());
  /** A replica campaigning from now on a Lease free to take (it leads at once), with time then advanced to `t`. */
  const leaderUntil = async (name: string, t: number): Promise<Replica> => {
    const r = replica(name);
    campaign(r);
    await advanceTo(t);
    return r;
  };
  return { clock, fake, replica, campaign, advanceTo, leaderUntil };
}

describe('KubeLeaseElector', () => {
  test('acquires a Lease that does not exist at once: six-digit times, our duration, no transitions', async () => {
    const { fake, leaderUntil } = setup();
    const a = await leaderUntil('a', 0);
    assert.equal(a.acquiredAt, T0);
    assert.deepEqual(fake.stored?.record, { holderIdentity: 'a', leaseDurationSeconds: 15, acquireTime: '2025-01-01T10:00:00.000000Z', renewTime: '2025-01-01T10:00:00.000000Z', leaseTransitions: 0 });
    assert.equal(await a.elector.leader(AbortSignal.timeout(1000)), 'a');
    assert.deepEqual(a.events.map((e) => e.msg), ['became leader']);
  });

  test("waits while another holder's record keeps changing; takes over exactly LeaseDuration after it last saw a change", async () => {
    const { fake, replica, campaign, advanceTo } = setup({ retryPeriodMs: 1_000 }); // rounds on every whole second
    fake.put(rec('x', formatMicroTime(T0)));
    const b = replica('b');
    campaign(b);
    // x renews every 2 s, each time just after b's round of that second (random() = 0: no jitter).
    for (let t = 1_000; t <= 59_000; t += 2_000) {
      await advanceTo(t);
      fake.put(rec('x', formatMicroTime(T0 + t)));
    }
    await advanceTo(74_000);
    assert.equal(b.acquiredAt, undefined, 'b saw the last change at 60 s: 74 s is too early');
    await advanceTo(75_000);
    assert.equal(b.acquiredAt, T0 + 75_000);
    assert.deepEqual(fake.stored?.record, { holderIdentity: 'b', leaseDurationSeconds: 15, acquireTime: formatMicroTime(T0 + 75_000), renewTime: formatMicroTime(T0 + 75_000), leaseTransitions: 4 });
  });

  for (const skew of [{ description: 'far in the future', at: Date.UTC(2099, 0, 1) }, { description: 'far in the past', at: Date.UTC(1999, 0, 1) }]) {
    test(`a holder's renewTime ${skew.description} changes nothing: takeover LeaseDuration after the record was first seen`, async () => {
      const { fake, replica, campaign, advanceTo } = setup({ retryPeriodMs: 1_000 }); // rounds on every whole second
      fake.put(rec('x', formatMicroTime(skew.at)));
      const b = replica('b');
      await advanceTo(3_000);
      campaign(b);
      await advanceTo(17_999);
      assert.equal(b.acquiredAt, undefined);
      await advanceTo(18_000);
      assert.equal(b.acquiredAt, T0 + 18_000);
    });
  }

  test('409 on the takeover write: not leader this round, no failure logged; the next round wins', async () => {
    const { fake, replica, campaign, advanceTo } = setup();
    fake.put(rec('x', 'r'));
    const b = replica('b');
    campaign(b);
    await advanceTo(14_000);
    fake.faults.replace.push(new ConflictError('the object has been modified'));
    await advanceTo(16_000);
    assert.equal(b.acquiredAt, undefined, 'the round at 16 s met a 409');
    await advanceTo(18_000);
    assert.equal(b.acquiredAt, T0 + 18_000);
    assert.deepEqual(b.events.map((e) => e.msg), ['became leader']);
  });

  test('409 on create (a rival created it first): not leader; waits out the rival', async () => {
    const { fake, replica, campaign, advanceTo } = setup();
    fake.beforeCreate = () => {
      fake.beforeCreate = undefined;
      fake.put(rec('x', 'r'));
    };
    const b = replica('b');
    campaign(b);
    await advanceTo(16_000);
    assert.equal(b.acquiredAt, undefined);
    assert.equal(fake.stored?.record.holderIdentity, 'x');
    await advanceTo(18_000);
    assert.equal(b.acquiredAt, T0 + 18_000, 'first seen at the 2 s round');
  });

  test('failed rounds are logged and retried; Retry-After longer than the period is honoured while campaigning', async () => {
    const { fake, replica, campaign, advanceTo } = setup();
    const b = replica('b');
    fake.faults.read.push(new RetryableError('503 ServiceUnavailable'), new RetryableError('429 TooManyRequests', { retryAfterMs: 5_000 }));
    campaign(b);
    await advanceTo(6_999);
    assert.equal(b.acquiredAt, undefined);
    await advanceTo(7_000);
    assert.equal(b.acquiredAt, T0 + 7_000, 'tries at 0, 2 s, then 5 s later');
    assert.deepEqual(b.events.map((e) => [e.msg, e.at - T0, e.fields?.retryInMs]), [
      ['election attempt failed', 0, 2_000], ['election attempt failed', 2_000, 5_000], ['became leader', 7_000, undefined],
    ]);
  });

  test('renews every RetryPeriod: acquireTime kept, transitions unchanged; a takeover after the leader dies counts one', async () => {
    const { fake, replica, campaign, advanceTo, leaderUntil } = setup();
    const a = await leaderUntil('a', 1_000);
    const b = replica('b');
    campaign(b); // b polls at 1, 3, 5, … s
    await advanceTo(9_000);
    const aWrites = fake.writes.filter((w) => w.by === 'a');
    assert.deepEqual(aWrites.map((w) => w.at - T0), [0, 2_000, 4_000, 6_000, 8_000]);
    for (const w of aWrites) {
      assert.equal(w.record.acquireTime, formatMicroTime(T0));
      assert.equal(w.record.renewTime, formatMicroTime(w.at));
      assert.equal(w.record.leaseTransitions, 0);
    }
    a.api.cut = true; // a can no longer reach the apiserver
    await advanceTo(40_000);
    assert.equal(a.lostAt, T0 + 18_000, 'last renewal round began at 8 s');
    assert.equal(b.acquiredAt, T0 + 25_000, 'b saw the 8 s renewal at its 9 s round; 24 s is no round of b, 25 s is');
    assert.deepEqual(fake.stored?.record, { holderIdentity: 'b', leaseDurationSeconds: 15, acquireTime: formatMicroTime(T0 + 25_000), renewTime: formatMicroTime(T0 + 39_000), leaseTransitions: 1 }, 'b renewed since, keeping its acquireTime');
  });

  test('renewals failing for RenewDeadline abort lost at exactly lastOk + RenewDeadline, naming the Lease and the last error', async () => {
    const { fake, replica, campaign, advanceTo } = setup();
    const a = replica('a');
    campaign(a);
    await advanceTo(4_000); // renewed at 2 s and 4 s
    fake.always = new RetryableError('replace Lease kube-system/tartan-controller: 500 InternalError');
    await advanceTo(13_999);
    assert.equal(a.lostAt, undefined);
    await advanceTo(14_000);
    assert.equal(a.lostAt, T0 + 14_000);
    const why = lostWhy(a);
    assert.match(why, /kube-system\/tartan-controller/);
    assert.match(why, /500 InternalError/);
    assert.deepEqual(a.events.filter((e) => e.msg === 'renewal failed; retrying').map((e) => e.at - T0), [6_000, 8_000, 10_000, 12_000]);
  });

  test('a stalled apiserver (calls never answer) still ends leadership at lastOk + RenewDeadline', async () => {
    const { fake, advanceTo, leaderUntil } = setup();
    const a = await leaderUntil('a', 2_000);
    fake.always = 'hang';
    await advanceTo(11_999);
    assert.equal(a.lostAt, undefined);
    await advanceTo(12_000);
    assert.equal(a.lostAt, T0 + 12_000);
    assert.match(lostWhy(a), /no answer within/);
  });

  test('a campaign round slower than RenewDeadline fails and is retried: it never wins a leadership already past its deadline', async () => {
    const { fake, replica, campaign, advanceTo } = setup();
    // Each call alone is within RenewDeadline; together they are not (a cold start on a loaded machine).
    fake.faults.read.push({ slowMs: 6_000 });
    fake.faults.create.push({ slowMs: 6_000 });
    const a = replica('a');
    campaign(a);
    await advanceTo(9_999);
    assert.equal(a.acquiredAt, undefined);
    await advanceTo(10_000);
    assert.equal(a.acquiredAt, undefined, 'the round ends at its deadline as a failed one');
    assert.match(String(a.events.at(-1)?.fields?.['err']), /no answer within 4000 ms/);
    await advanceTo(12_000);
    assert.equal(a.acquiredAt, T0 + 12_000, 'the next round wins');
    await advanceTo(30_000);
    assert.equal(a.lostAt, undefined, 'and keeps it: renewals began within its deadline');
  });

  test('failures shorter than RenewDeadline keep the leader', async () => {
    const { fake, advanceTo, leaderUntil } = setup();
    const a = await leaderUntil('a', 4_000);
    fake.always = new RetryableError('503 ServiceUnavailable');
    await advanceTo(11_000); // rounds at 6, 8, 10 s fail; the one at 12 s, 2 s before the deadline, succeeds
    fake.always = undefined;
    await advanceTo(40_000);
    assert.equal(a.lostAt, undefined);
    assert.equal(fake.stored?.record.renewTime, formatMicroTime(T0 + 40_000));
  });

  test('a leader that reads another holder loses at once', async () => {
    const { fake, advanceTo, leaderUntil } = setup();
    const a = await leaderUntil('a', 1_000);
    fake.put(rec('x', 'r'));
    await advanceTo(2_000);
    assert.equal(a.lostAt, T0 + 2_000);
    assert.match(lostWhy(a), /now names x/);
  });

  test('resign stops renewing and writes holder "" with leaseDurationSeconds 1; a waiting candidate takes it at its next round', async () => {
    const { fake, replica, campaign, advanceTo, leaderUntil } = setup();
    const a = await leaderUntil('a', 0);
    const b = replica('b');
    campaign(b);
    await advanceTo(5_000);
    await a.leadership!.resign();
    assert.ok(a.leadership!.lost.aborted);
    assert.deepEqual(fake.stored?.record, { holderIdentity: '', leaseDurationSeconds: 1, acquireTime: formatMicroTime(T0 + 5_000), renewTime: formatMicroTime(T0 + 5_000), leaseTransitions: 0 });
    await advanceTo(6_000);
    assert.equal(b.acquiredAt, T0 + 6_000);
    assert.equal(fake.stored?.record.leaseTransitions, 1);
    await advanceTo(20_000);
    assert.deepEqual(fake.writes.filter((w) => w.by === 'a').map((w) => w.at - T0), [0, 2_000, 4_000, 5_000], 'a wrote nothing after its release');
  });

  test('resign retries a 409 a bounded number of times, and does not write when the Lease names someone else', async () => {
    const { fake, leaderUntil } = setup();
    const a = await leaderUntil('a', 0);
    fake.faults.replace.push(new ConflictError('modified'), new ConflictError('modified'));
    await a.leadership!.resign();
    assert.equal(fake.stored?.record.holderIdentity, '', 'third try released it');
    const c = await leaderUntil('c', 1_000);
    fake.faults.replace.push(...Array.from({ length: 5 }, () => new ConflictError('modified')));
    await c.leadership!.resign();
    assert.equal(fake.stored?.record.holderIdentity, 'c', 'gave up after three conflicts');
    assert.equal(c.events.at(-1)?.msg, 'release failed; the Lease expires on its own');
    fake.faults.replace.length = 0;
    fake.put(rec('x', 'r'));
    const before = fake.writes.length;
    await c.leadership!.resign();
    assert.equal(fake.writes.length, before, 'not ours: no release');
  });

  test('the campaign signal aborting ends a leader without a release (as a killed process)', async () => {
    const { fake, advanceTo, leaderUntil } = setup();
    const a = await leaderUntil('a', 3_000);
    a.stop.abort(new Error('SIGKILL'));
    assert.equal(a.lostAt, T0 + 3_000);
    await advanceTo(30_000);
    assert.equal(fake.stored?.record.holderIdentity, 'a');
    assert.deepEqual(fake.writes.map((w) => w.at - T0), [0, 2_000]);
  });

  test('the constructor refuses bad timings, names and identities', () => {
    const ok = { api: new FakeLeaseApi(new FakeClock()).client('a'), namespace: 'kube-system', name: 'tartan-controller', identity: 'a', leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };
    assert.throws(() => new KubeLeaseElector({ ...ok, renewDeadlineMs: 15_000 }), /--leader-elect-lease-duration/);
    assert.throws(() => new KubeLeaseElector({ ...ok, namespace: 'Kube_System' }), /--leader-elect-resource-namespace/);
    assert.throws(() => new KubeLeaseElector({ ...ok, name: '' }), /--leader-elect-resource-name/);
    assert.throws(() => new KubeLeaseElector({ ...ok, identity: '' }), /--identity/);
  });
});
