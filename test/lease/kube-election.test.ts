// Kubernetes Lease election against the kube-apiserver emulator (on the shared real
// etcd), through client-node 2.x: one leader among three, the Lease as stored, a
// resign handing over, a killed leader replaced after LeaseDuration, and injected faults
// shorter and longer than RenewDeadline. Every replica's timeline is recorded: when its
// winning write started and when its `lost` fired, so "never two leaders" is checked.
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Leadership } from '../../src/lease/election.ts';
import { KubeLeaseElector } from '../../src/lease/kube-election.ts';
import { type KubeLeaseApi, type StoredLease, kubeLeaseApi } from '../../src/lease/kube-lease-api.ts';
import type { FaultRequest } from '../emulators/kube-apiserver/faults.ts';
import { kubeHarness } from '../emulators/kube-apiserver/fixture.ts';
import { waitFor } from '../support/wait.ts';

const TIMINGS = { leaseDurationMs: 2_000, renewDeadlineMs: 1_000, retryPeriodMs: 200 };
/** The longest a candidate sleeps between tries: RetryPeriod × (1 + JitterFactor). */
const MAX_RETRY_MS = TIMINGS.retryPeriodMs * 2.2;
const LEASES = '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases';
const SIX_DIGITS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

interface Write { readonly by: string; readonly holder: string; readonly startedAt: number; readonly endedAt: number }

interface Replica {
  readonly name: string;
  readonly elector: KubeLeaseElector;
  /** Aborting it stops the campaign, or a leader's renewals without a release (a SIGKILL, as the Lease sees it). */
  readonly stop: AbortController;
  readonly won: Promise<Leadership>;
  readonly events: { msg: string; fields: Record<string, unknown> | undefined }[];
  acquiredAt?: number;
  lostAt?: number;
  leadership?: Leadership;
}

/** `p`, or a failure naming `what` once `ms` have passed. */
async function within<T>(what: string, ms: number, p: Promise<T>): Promise<T> {
  const late = sleep(ms, undefined, { ref: false }).then((): never => {
    throw new Error(`${what}: not within ${ms} ms`);
  });
  return await Promise.race([p, late]);
}

/** The successful writes of one client, with the time each began (it cannot have landed earlier). */
function recorded(api: KubeLeaseApi, by: string, writes: Write[]): KubeLeaseApi {
  const track = async (holder: string, write: () => Promise<StoredLease>): Promise<StoredLease> => {
    const startedAt = Date.now();
    const done = await write();
    writes.push({ by, holder, startedAt, endedAt: Date.now() });
    return done;
  };
  return {
    read: (ref, signal) => api.read(ref, signal),
    create: (ref, record, signal) => track(record.holderIdentity, () => api.create(ref, record, signal)),
    replace: (ref, current, record, signal) => track(record.holderIdentity, () => api.replace(ref, current, record, signal)),
  };
}

describe('Kubernetes Lease election (kube-apiserver emulator, client-node)', () => {
  const h = kubeHarness();
  let leaseNo = 0;

  /** A lease of its own and replicas on it, each with its own KubeConfig; all stopped (leaders resigned) when the test ends. */
  const election = (t: TestContext) => {
    const lease = `tartan-election-${++leaseNo}`;
    const writes: Write[] = [];
    const replicas: Replica[] = [];
    t.after(async () => {
      for (const r of replicas) r.stop.abort(new Error('test over'));
      await Promise.all(replicas.map(async (r) => r.leadership?.resign()));
    });
    const replica = (name: string): Replica => {
      const events: Replica['events'] = [];
      const elector = new KubeLeaseElector({
        api: recorded(kubeLeaseApi(h.kubeConfig()), name, writes), namespace: 'kube-system', name: lease, identity: name, ...TIMINGS,
        onEvent: (msg, fields) => events.push({ msg, fields }),
      });
      const stop = new AbortController();
      const r: Replica = {
        name, elector, stop, events,
        won: elector.campaign(stop.signal).then((l) => {
          r.acquiredAt = Date.now();
          r.leadership = l;
          l.lost.addEventListener('abort', () => (r.lostAt = Date.now()));
          return l;
        }),
      };
      r.won.catch(() => {});
      replicas.push(r);
      return r;
    };
    const stored = async (): Promise<{ metadata: { resourceVersion: string }; spec: Record<string, unknown> }> => {
      const res = await h.raw('GET', `${LEASES}/${lease}`);
      assert.equal(res.status, 200, res.text);
      return res.json();
    };
    const leaders = (): string[] => replicas.filter((r) => r.acquiredAt !== undefined && r.lostAt === undefined).map((r) => r.name);
    /** Each leader's term began (its winning write started) only after every earlier leader's `lost` had fired. */
    const assertNeverTwoLeaders = (): void => {
      const terms = replicas.filter((r) => r.acquiredAt !== undefined).map((r) => {
        const win = writes.filter((w) => w.by === r.name && w.holder === r.name && w.startedAt <= r.acquiredAt!).at(-1);
        assert.ok(win, `${r.name}'s winning write was recorded`);
        return { name: r.name, from: win.startedAt, to: r.lostAt ?? Infinity };
      }).sort((x, y) => x.from - y.from);
      for (let i = 1; i < terms.length; i++) {
        assert.ok(terms[i - 1]!.to <= terms[i]!.from, `${terms[i - 1]!.name} (lost at ${terms[i - 1]!.to}) still led when ${terms[i]!.name} began its winning write at ${terms[i]!.from}`);
      }
    };
    return { lease, writes, replica, stored, leaders, assertNeverTwoLeaders };
  };

  test('three replicas: exactly one leads and keeps leading; the Lease as stored has six-digit times, holder, duration, transitions', async (t) => {
    const e = election(t);
    const [a, b, c] = [e.replica('a'), e.replica('b'), e.replica('c')];
    const first = await within('a first leader', 5_000, Promise.race([a.won, b.won, c.won]));
    await sleep(TIMINGS.leaseDurationMs + 1_000);
    assert.deepEqual(e.leaders(), [first.identity], 'one leader, still the first, after more than LeaseDuration');
    const { spec } = await e.stored();
    assert.equal(spec.holderIdentity, first.identity);
    assert.equal(spec.leaseDurationSeconds, 2);
    assert.equal(spec.leaseTransitions, 0);
    assert.match(String(spec.acquireTime), SIX_DIGITS);
    assert.match(String(spec.renewTime), SIX_DIGITS);
    assert.ok(String(spec.renewTime) > String(spec.acquireTime), `renewed since it was acquired: ${String(spec.renewTime)} > ${String(spec.acquireTime)}`);
    for (const r of [a, b, c]) assert.equal(await r.elector.leader(AbortSignal.timeout(5_000)), first.identity);
    e.assertNeverTwoLeaders();
  });

  test('resign releases (holder "", leaseDurationSeconds 1) and a waiting replica takes over within about one retry period', async (t) => {
    const e = election(t);
    const a = e.replica('a');
    await (await within('a leads', 5_000, a.won)).resign();
    const released = (await e.stored()).spec;
    assert.equal(released.holderIdentity ?? '', '');
    assert.equal(released.leaseDurationSeconds, 1);
    assert.equal(released.leaseTransitions, 0);
    assert.match(String(released.renewTime), SIX_DIGITS);

    const b = e.replica('b');
    const c = e.replica('c');
    const next = await within('b or c leads', 5_000, Promise.race([b.won, c.won]));
    assert.equal((await e.stored()).spec.leaseTransitions, 1, 'taking a released Lease is a transition');
    const waiting = next.identity === 'b' ? c : b;
    await sleep(500);
    assert.equal(waiting.acquiredAt, undefined);
    const resignedAt = Date.now();
    await next.resign();
    await within('the waiting replica leads', 5_000, waiting.won);
    const handoverMs = waiting.acquiredAt! - resignedAt;
    t.diagnostic(`handover after resign: ${handoverMs} ms`);
    assert.ok(handoverMs < MAX_RETRY_MS + 500, `took over ${handoverMs} ms after the resign: without the release it takes LeaseDuration (${TIMINGS.leaseDurationMs} ms)`);
    const { spec } = await e.stored();
    assert.equal(spec.holderIdentity, waiting.name);
    assert.equal(spec.leaseTransitions, 2);
    e.assertNeverTwoLeaders();
  });

  test('a leader killed without a release is replaced LeaseDuration after its last renewal, plus at most about one retry period', async (t) => {
    const e = election(t);
    const a = e.replica('a');
    await within('a leads', 5_000, a.won);
    const b = e.replica('b');
    await sleep(600);
    a.stop.abort(new Error('SIGKILL')); // its loops stop; nothing is written
    const killedAt = Date.now();
    const lastRenewal = e.writes.filter((w) => w.by === 'a').at(-1)!;
    await within('b replaces the killed leader', 10_000, b.won);
    const afterLastRenewal = b.acquiredAt! - lastRenewal.startedAt;
    const afterKill = b.acquiredAt! - killedAt;
    t.diagnostic(`takeover ${afterLastRenewal} ms after the last renewal began, ${afterKill} ms after the kill`);
    assert.ok(afterLastRenewal >= TIMINGS.leaseDurationMs, `not before LeaseDuration after a's last renewal (${afterLastRenewal} ms)`);
    assert.ok(afterKill <= TIMINGS.leaseDurationMs + MAX_RETRY_MS + 500, `within LeaseDuration + one jittered retry period of the kill (${afterKill} ms)`);
    assert.equal(a.lostAt !== undefined && a.lostAt <= killedAt + 5, true, 'the killed leader stopped at once');
    assert.equal((await e.stored()).spec.leaseTransitions, 1);
    e.assertNeverTwoLeaders();
  });

  // A renewal's deadline runs from the start of the last successful round, so with L ms
  // per call the leader keeps up while 2L + RetryPeriod < RenewDeadline: 150 ms leaves 500.
  const short: { description: string; fault: FaultRequest; forMs: number }[] = [
    { description: '503s for 500 ms', fault: { errors: { count: 1_000, code: 503 } }, forMs: 500 },
    { description: '429 with Retry-After: 1 for 500 ms', fault: { throttle: { count: 1_000, retryAfterSeconds: 1 } }, forMs: 500 },
    { description: '150 ms of latency on every call for 1 s', fault: { latencyMs: 150 }, forMs: 1_000 },
  ];
  for (const c of short) {
    test(`${c.description} (shorter than RenewDeadline) keeps the leader`, async (t) => {
      const e = election(t);
      const a = e.replica('a');
      await within('a leads', 5_000, a.won);
      const b = e.replica('b');
      await sleep(500);
      const before = (await e.stored()).metadata.resourceVersion;
      const faultAt = Date.now();
      h.api.admin.injectFaults(c.fault);
      await sleep(c.forMs);
      h.api.admin.reset();
      const clearedAt = Date.now();
      await sleep(TIMINGS.leaseDurationMs + 500);
      assert.deepEqual(e.leaders(), ['a']);
      assert.equal(b.acquiredAt, undefined);
      const { metadata, spec } = await e.stored();
      assert.equal(spec.holderIdentity, 'a');
      assert.notEqual(metadata.resourceVersion, before, 'a renewed after the fault');
      const latencyMs = c.fault.latencyMs;
      if (latencyMs) {
        // Only a write that ended inside the window surely reached the server while the latency was on.
        const inside = e.writes.filter((w) => w.by === 'a' && w.startedAt >= faultAt && w.endedAt <= clearedAt);
        assert.ok(inside.length > 0, 'the leader renewed during the latency');
        for (const w of inside) assert.ok(w.endedAt - w.startedAt >= latencyMs, `a renewal during the latency took ${w.endedAt - w.startedAt} ms`);
      } else {
        assert.ok(a.events.some((ev) => ev.msg === 'renewal failed; retrying'), 'the fault did reach the leader');
      }
      e.assertNeverTwoLeaders();
    });
  }

  const long: { description: string; fault: FaultRequest; error: RegExp }[] = [
    { description: '503s for 1.6 s', fault: { errors: { count: 100_000, code: 503 } }, error: /503/ },
    { description: '1.5 s of latency on every call for 1.6 s', fault: { latencyMs: 1_500 }, error: /no answer within/ },
  ];
  for (const c of long) {
    test(`${c.description} (longer than RenewDeadline) loses the leader before anyone else takes over`, async (t) => {
      const e = election(t);
      const a = e.replica('a');
      await within('a leads', 5_000, a.won);
      const [b, d] = [e.replica('b'), e.replica('d')];
      await sleep(500);
      h.api.admin.injectFaults(c.fault);
      await sleep(1_600);
      h.api.admin.reset();
      const next = await within('b or d leads', 10_000, Promise.race([b.won, d.won]));
      assert.ok(a.lostAt !== undefined, 'a lost its leadership');
      const why = (a.leadership!.lost.reason as Error).message;
      assert.match(why, new RegExp(`kube-system/${e.lease}`));
      assert.match(why, c.error);
      const win = e.writes.find((w) => w.by === next.identity && w.holder === next.identity)!;
      t.diagnostic(`a lost ${win.startedAt - a.lostAt} ms before ${next.identity} began its winning write`);
      e.assertNeverTwoLeaders();
      await waitFor('the new leader recorded', () => e.leaders().length === 1, 2_000);
      assert.deepEqual(e.leaders(), [next.identity]);
    });
  }
});
