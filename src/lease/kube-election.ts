// Leader election on a coordination.k8s.io/v1 Lease, with client-go's semantics
// (tools/leaderelection, reference/kubernetes.md §5). Candidates try every RetryPeriod
// (jittered ×1.2). A holder's record counts as expired only when it has not CHANGED for
// its leaseDurationSeconds on this process's own clock: renewTime values are never
// compared across machines, so clock skew between replicas cannot hand the Lease over
// early. Every write is a compare-and-swap on resourceVersion (the apiserver refuses a
// Lease PUT without one), so a 409 is just a round lost to someone faster.
//
// The leader renews every RetryPeriod and aborts `lost` once no renewal has succeeded
// for RenewDeadline, counted from the START of the last round that did: the others
// cannot have seen that write earlier, and wait LeaseDuration > RenewDeadline after
// seeing it, so the old leader has stopped before anyone else may take over. A timer,
// not the renew loop, fires it, and every call's deadline ends by then: a stalled
// apiserver cannot keep a leader that can no longer renew.
//
// On purpose unlike client-go: leaseDurationSeconds is the duration rounded UP to whole
// seconds (rounding down would let others take over before our deadline); a leader that
// reads another holder loses at once, not after RenewDeadline; only a 409 sends the fast
// renewal (PUT of the cached object) on to the read-then-write path.
//
// The campaign's signal also ends a leader's renewals (`lost` fires) but writes nothing,
// as a killed process would; resign() is the one release.
import type { LeaderElector, Leadership } from './election.ts';
import { ConflictError, InvalidInputError, RetryableError, errorMessage } from '../errors.ts';
import { type Clock, realClock } from '../util/time.ts';
import { type KubeLeaseApi, type LeaseRecord, type LeaseRef, type StoredLease, formatMicroTime } from './kube-lease-api.ts';

/** Kubernetes election is imported from here: the elector, and the Lease API it runs on (client-node). */
export { type KubeLeaseApi, kubeLeaseApi } from './kube-lease-api.ts';

/** client-go's JitterFactor: campaign retries wait RetryPeriod × [1, 2.2). */
export const JITTER_FACTOR = 1.2;
const RELEASE_ATTEMPTS = 3;

export interface ElectionTimings {
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
}

export interface KubeLeaseElectorOptions extends ElectionTimings, LeaseRef {
  readonly api: KubeLeaseApi;
  readonly identity: string;
  readonly clock?: Clock;
  readonly onEvent?: (msg: string, fields?: Record<string, unknown>) => void;
  /** [0, 1) for the campaign jitter (default Math.random). */
  readonly random?: () => number;
}

const RULE = '--leader-elect-lease-duration > --leader-elect-renew-deadline > 1.2 × --leader-elect-retry-period';

/** client-go's NewLeaderElector checks: LeaseDuration > RenewDeadline > JitterFactor × RetryPeriod > 0. */
export function validateElectionTimings(t: ElectionTimings): void {
  const flags: [keyof ElectionTimings, string][] = [['leaseDurationMs', '--leader-elect-lease-duration'], ['renewDeadlineMs', '--leader-elect-renew-deadline'], ['retryPeriodMs', '--leader-elect-retry-period']];
  for (const [key, flag] of flags) {
    if (!Number.isFinite(t[key]) || t[key] <= 0) throw new InvalidInputError(flag, t[key], `must be a positive duration in ms (${RULE})`);
  }
  if (t.leaseDurationMs <= t.renewDeadlineMs) {
    throw new InvalidInputError('--leader-elect-lease-duration', t.leaseDurationMs, `must be longer than --leader-elect-renew-deadline (${t.renewDeadlineMs} ms): ${RULE}`);
  }
  if (t.renewDeadlineMs <= JITTER_FACTOR * t.retryPeriodMs) {
    throw new InvalidInputError('--leader-elect-renew-deadline', t.renewDeadlineMs, `must be longer than 1.2 × --leader-elect-retry-period (${t.retryPeriodMs} ms): ${RULE}`);
  }
}

/** A record last seen as it is now, and when (local clock) it was first seen so. */
export interface Observation {
  readonly record: LeaseRecord;
  readonly at: number;
}

export function observe(prev: Observation | undefined, record: LeaseRecord, now: number): Observation {
  const same = prev !== undefined && (Object.keys(record) as (keyof LeaseRecord)[]).every((k) => prev.record[k] === record[k]);
  return same ? prev : { record, at: now };
}

export interface Candidate {
  readonly identity: string;
  readonly leaseDurationSeconds: number;
  readonly now: number;
}

/** What we write to hold the Lease: renewing keeps acquireTime and transitions, taking over counts one more. */
export function holdingRecord(old: LeaseRecord | undefined, c: Candidate): LeaseRecord {
  const time = formatMicroTime(c.now);
  const ours = old?.holderIdentity === c.identity;
  return {
    holderIdentity: c.identity, leaseDurationSeconds: c.leaseDurationSeconds, renewTime: time,
    acquireTime: ours ? old.acquireTime : time,
    leaseTransitions: old === undefined ? 0 : ours ? old.leaseTransitions : old.leaseTransitions + 1,
  };
}

export type LeaseStep = { readonly kind: 'write'; readonly record: LeaseRecord } | { readonly kind: 'wait'; readonly holder: string; readonly expiresAt: number };

/** client-go's tryAcquireOrRenew on a Lease that exists: wait while another holder's record has changed within its duration. */
export function planLeaseWrite(observed: Observation, c: Candidate): LeaseStep {
  const { holderIdentity: holder, leaseDurationSeconds } = observed.record;
  const expiresAt = observed.at + leaseDurationSeconds * 1000;
  if (holder !== '' && holder !== c.identity && expiresAt > c.now) return { kind: 'wait', holder, expiresAt };
  return { kind: 'write', record: holdingRecord(observed.record, c) };
}

/** ReleaseOnCancel: no holder, a one-second duration, so any candidate takes it at its next try. */
export function releasedRecord(old: LeaseRecord, now: number): LeaseRecord {
  const time = formatMicroTime(now);
  return { holderIdentity: '', leaseDurationSeconds: 1, acquireTime: time, renewTime: time, leaseTransitions: old.leaseTransitions };
}

const NAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const NAMESPACE = /^(?=.{1,63}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** Clean-up (the release) runs after the caller's signal aborted; its deadline bounds it. */
const UNTIL_DEADLINE = new AbortController().signal;

export class KubeLeaseElector implements LeaderElector {
  readonly #o: KubeLeaseElectorOptions;
  readonly #clock: Clock;
  readonly #ref: LeaseRef;
  readonly #seconds: number;
  /** `namespace/name`, for messages. */
  readonly lease: string;
  /** The Lease as last read or written: the next write's resourceVersion. */
  #current: StoredLease | undefined;
  #observed: Observation | undefined;

  constructor(opts: KubeLeaseElectorOptions) {
    validateElectionTimings(opts);
    if (!NAMESPACE.test(opts.namespace)) throw new InvalidInputError('--leader-elect-resource-namespace', opts.namespace, 'must be a DNS-1123 label');
    if (!NAME.test(opts.name)) throw new InvalidInputError('--leader-elect-resource-name', opts.name, 'must be a DNS-1123 subdomain');
    if (opts.identity === '') throw new InvalidInputError('--identity', opts.identity, 'must not be empty');
    this.#o = opts;
    this.#clock = opts.clock ?? realClock;
    this.#ref = { namespace: opts.namespace, name: opts.name };
    this.#seconds = Math.ceil(opts.leaseDurationMs / 1000);
    this.lease = `${opts.namespace}/${opts.name}`;
  }

  async leader(signal: AbortSignal): Promise<string | undefined> {
    const got = await this.#call('read', signal, this.#o.renewDeadlineMs, (s) => this.#o.api.read(this.#ref, s));
    return got?.record.holderIdentity || undefined;
  }

  async campaign(signal: AbortSignal): Promise<Leadership> {
    for (let attempt = 1; ; attempt++) {
      signal.throwIfAborted();
      const started = this.#clock.now();
      let waitMs = this.#o.retryPeriodMs * (1 + JITTER_FACTOR * (this.#o.random ?? Math.random)());
      try {
        // A round that takes longer than RenewDeadline fails (its calls time out) rather than
        // winning a leadership that the watchdog would end a moment later (a cold, loaded start).
        if (await this.#round(signal, started + this.#o.renewDeadlineMs)) {
          this.#event('became leader', { leaseTransitions: this.#current?.record.leaseTransitions });
          return this.#hold(started, signal);
        }
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        waitMs = Math.max(waitMs, retryAfterMs(err));
        this.#event('election attempt failed', { attempt, err: errorMessage(err), retryInMs: Math.round(waitMs) });
      }
      await this.#clock.sleep(waitMs, signal);
    }
  }

  /** One tryAcquireOrRenew: true when we hold the Lease after it, false when someone else does or was faster (409). */
  async #round(signal: AbortSignal, deadlineAt: number): Promise<boolean> {
    const call = <T>(what: string, fn: (s: AbortSignal) => Promise<T>): Promise<T> =>
      this.#call(what, signal, Math.min(this.#o.renewDeadlineMs, deadlineAt - this.#clock.now()), fn);
    const wrote = async (what: string, fn: (s: AbortSignal) => Promise<StoredLease>): Promise<boolean> => {
      try {
        this.#current = await call(what, fn);
        this.#observed = { record: this.#current.record, at: this.#clock.now() };
        return true;
      } catch (err) {
        if (err instanceof ConflictError) return false;
        throw err;
      }
    };
    const { api, identity } = this.#o;
    const candidate = (): Candidate => ({ identity, leaseDurationSeconds: this.#seconds, now: this.#clock.now() });
    const cached = this.#current;
    const obs = this.#observed;
    if (cached && obs?.record.holderIdentity === identity && obs.at + obs.record.leaseDurationSeconds * 1000 > this.#clock.now()) {
      const record = holdingRecord(cached.record, candidate());
      if (await wrote('renew', (s) => api.replace(this.#ref, cached, record, s))) return true;
    }
    const got = await call('read', (s) => api.read(this.#ref, s));
    if (!got) return await wrote('create', (s) => api.create(this.#ref, holdingRecord(undefined, candidate()), s));
    this.#current = got;
    this.#observed = observe(this.#observed, got.record, this.#clock.now());
    const step = planLeaseWrite(this.#observed, candidate());
    return step.kind === 'write' && (await wrote('update', (s) => api.replace(this.#ref, got, step.record, s)));
  }

  #hold(acquiredAt: number, signal: AbortSignal): Leadership {
    const { identity, renewDeadlineMs, retryPeriodMs } = this.#o;
    const lost = new AbortController();
    const stop = new AbortController();
    let lastOk = acquiredAt;
    let lastError = 'none';
    const deadline = (): number => lastOk + renewDeadlineMs;
    const lose = (why: string): void => {
      stop.abort();
      if (lost.signal.aborted) return;
      this.#event('lost leadership', { why });
      lost.abort(new Error(`lost leadership of Lease ${this.lease}: ${why}`));
    };
    const watchdog = (async () => {
      for (let left = deadline() - this.#clock.now(); left > 0; left = deadline() - this.#clock.now()) {
        if (!(await this.#clock.sleep(left, stop.signal).then(() => true, () => false))) return;
      }
      lose(`no renewal succeeded for ${renewDeadlineMs} ms (last error: ${lastError})`);
    })();
    const renewals = (async () => {
      for (let waitMs = retryPeriodMs; await this.#clock.sleep(waitMs, stop.signal).then(() => true, () => false);) {
        const started = this.#clock.now();
        waitMs = retryPeriodMs;
        try {
          if (await this.#round(stop.signal, deadline())) {
            lastOk = started;
            continue;
          }
          const holder = this.#observed?.record.holderIdentity;
          if (holder && holder !== identity) return lose(`the Lease now names ${holder}`);
          lastError = 'the Lease changed under us (409 Conflict)';
        } catch (err) {
          if (stop.signal.aborted) return;
          lastError = errorMessage(err);
          const retryAfter = retryAfterMs(err);
          if (retryAfter > waitMs && this.#clock.now() + retryAfter < deadline()) waitMs = retryAfter;
          this.#event('renewal failed; retrying', { err: lastError, msLeft: deadline() - this.#clock.now(), retryInMs: waitMs });
        }
      }
    })();
    // The campaign's signal ends the renewals too (without a release: that is resign's).
    const onAbort = (): void => lose(`stopped renewing: ${errorMessage(signal.reason)}`);
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true, signal: stop.signal });
    return {
      identity,
      lost: lost.signal,
      resign: async () => {
        stop.abort();
        if (!lost.signal.aborted) lost.abort(new Error('resigned'));
        await Promise.all([watchdog, renewals]);
        await this.#release();
      },
    };
  }

  /** ReleaseOnCancel: only while the Lease names us; a 409 re-reads and tries again, all within RenewDeadline. */
  async #release(): Promise<void> {
    const until = this.#clock.now() + this.#o.renewDeadlineMs;
    const left = (): number => until - this.#clock.now();
    for (let attempt = 1; attempt <= RELEASE_ATTEMPTS; attempt++) {
      try {
        const got = await this.#call('read', UNTIL_DEADLINE, left(), (s) => this.#o.api.read(this.#ref, s));
        if (got?.record.holderIdentity !== this.#o.identity) return;
        this.#current = await this.#call('release', UNTIL_DEADLINE, left(), (s) => this.#o.api.replace(this.#ref, got, releasedRecord(got.record, this.#clock.now()), s));
        this.#observed = { record: this.#current.record, at: this.#clock.now() };
        this.#event('released leadership', {});
        return;
      } catch (err) {
        if (!(err instanceof ConflictError) || attempt === RELEASE_ATTEMPTS) {
          this.#event('release failed; the Lease expires on its own', { attempt, err: errorMessage(err) });
          return;
        }
      }
    }
  }

  /** One API call that ends when it answers, `timeoutMs` passes on the clock or `signal` aborts, even if the API ignores its signal. */
  async #call<T>(what: string, signal: AbortSignal, timeoutMs: number, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    signal.throwIfAborted();
    const done = new AbortController();
    const timeout = new AbortController();
    this.#clock.sleep(timeoutMs, done.signal).then(
      () => timeout.abort(new RetryableError(`${what} Lease ${this.lease}: no answer within ${Math.round(timeoutMs)} ms`)),
      () => {},
    );
    const both = AbortSignal.any([signal, timeout.signal]);
    const aborted = new Promise<never>((_, reject) => both.addEventListener('abort', () => reject(both.reason as Error), { once: true, signal: done.signal }));
    const call = fn(both);
    call.catch(() => {});
    aborted.catch(() => {});
    try {
      return await Promise.race([call, aborted]);
    } finally {
      done.abort();
    }
  }

  #event(msg: string, fields: Record<string, unknown>): void {
    this.#o.onEvent?.(msg, { identity: this.#o.identity, lease: this.lease, ...fields });
  }
}

function retryAfterMs(err: unknown): number {
  return err instanceof RetryableError ? (err.retryAfterMs ?? 0) : 0;
}

