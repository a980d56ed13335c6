// Leader election on one etcd key, `<prefix>/controller/leader/<scope>` (one leader
// per provider and route domain: src/controller/election-scope.ts; unscoped,
// `<prefix>/controller/leader`, as before), holding the leader's identity under an
// etcd lease (TTL default 15 s). A scoped controller does not take its key while a
// controller from before the scoping holds the unscoped one: during an upgrade the
// two would both act on the same tables. Taking it is a
// create-if-absent transaction; keeping it is a keepalive every TTL/3 plus a read
// of the key. The key gone or changed, the etcd lease expired, or no keepalive through
// for two intervals (failures are retried within them) aborts `lost`.
// We watch/poll the key ourselves: etcd3's ElectionObserver can report the wrong leader.
// Every request has a deadline (etcd-call.ts): a campaign attempt that fails or times
// out is logged with its reason and retried with backoff; only a TLS/auth error ends it.
import type { Etcd3, Lease as EtcdLease } from 'etcd3';
import type { LeaderElector, Leadership } from './election.ts';
import { errorMessage } from '../errors.ts';
import { type Clock, backoffDelay, realClock } from '../util/time.ts';
import { EtcdTrustError, etcdCall } from './etcd-call.ts';
import { etcdClientSettings } from './etcd-client.ts';

/** Clean-up (revoking the election lease) runs even after the caller's signal aborted; the deadline bounds it. */
const UNTIL_DEADLINE = new AbortController().signal;

export interface EtcdElectorOptions {
  readonly client: Etcd3;
  readonly prefix: string;
  readonly identity: string;
  readonly ttlSeconds: number;
  readonly clock?: Clock;
  readonly onEvent?: (msg: string, fields?: Record<string, unknown>) => void;
  /** Deadline of each etcd request (default: the client's, 5 s). */
  readonly callTimeoutMs?: number;
  /** The key below `<prefix>/controller/leader/` (ElectionScope.key); without it, `<prefix>/controller/leader` itself. */
  readonly scope?: string | undefined;
}

export class EtcdElector implements LeaderElector {
  readonly #o: EtcdElectorOptions;
  readonly #clock: Clock;
  readonly key: string;
  /** The unscoped key, which must be absent for a scoped elector to lead. */
  readonly #legacyKey: string | undefined;
  readonly #timeoutMs: number;

  constructor(opts: EtcdElectorOptions) {
    this.#o = opts;
    this.#clock = opts.clock ?? realClock;
    const unscoped = `${opts.prefix.replace(/\/+$/, '')}/controller/leader`;
    this.key = opts.scope === undefined ? unscoped : `${unscoped}/${opts.scope}`;
    this.#legacyKey = opts.scope === undefined ? undefined : unscoped;
    this.#timeoutMs = opts.callTimeoutMs ?? etcdClientSettings(opts.client).callTimeoutMs;
  }

  async leader(signal: AbortSignal): Promise<string | undefined> {
    return (await this.#call(`read ${this.key}`, signal, () => this.#o.client.get(this.key).string())) ?? undefined;
  }

  async campaign(signal: AbortSignal): Promise<Leadership> {
    const pollMs = Math.max(200, (this.#o.ttlSeconds * 1000) / 5);
    let failures = 0;
    for (let attempt = 1; ; attempt++) {
      signal.throwIfAborted();
      try {
        const won = await this.#tryAcquire(signal);
        if (won) return won;
        failures = 0;
      } catch (err) {
        if (err instanceof EtcdTrustError || signal.aborted) throw err;
        failures++;
        const retryInMs = backoffDelay(failures - 1, pollMs, this.#o.ttlSeconds * 1000);
        this.#o.onEvent?.('election attempt failed', { identity: this.#o.identity, attempt, err: errorMessage(err), retryInMs });
        await this.#clock.sleep(retryInMs, signal);
        continue;
      }
      await this.#clock.sleep(pollMs, signal);
    }
  }

  async #tryAcquire(signal: AbortSignal): Promise<Leadership | undefined> {
    const lease = this.#o.client.lease(this.#o.ttlSeconds, { autoKeepAlive: false });
    try {
      const leaseId = await this.#call('grant the election lease', signal, () => lease.grant());
      const free = this.#o.client.if(this.key, 'Create', '==', 0);
      if (this.#legacyKey !== undefined) free.and(this.#legacyKey, 'Create', '==', 0);
      const res = await this.#call(`create ${this.key}`, signal, () => free
        .then(this.#o.client.put(this.key).value(this.#o.identity).lease(leaseId))
        .commit());
      if (res.succeeded) {
        this.#o.onEvent?.('became leader', { identity: this.#o.identity, key: this.key });
        return this.#hold(lease);
      }
    } catch (err) {
      // A create that timed out may still have landed: revoking deletes the key with it.
      await this.#revoke(lease);
      throw err;
    }
    await this.#revoke(lease);
    return undefined;
  }

  async #revoke(lease: EtcdLease): Promise<void> {
    // A revoke that fails leaves the lease to expire with its TTL (the key with it).
    await this.#call('revoke the election lease', UNTIL_DEADLINE, () => lease.revoke()).catch(() => {});
  }

  async #call<T>(what: string, signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
    return await etcdCall({ what, signal, timeoutMs: this.#timeoutMs, trust: etcdClientSettings(this.#o.client).trust }, fn);
  }

  /** One keepalive plus a read of the key, within `budgetMs`: ok, lost for sure, or not known (retry while there is time). */
  async #check(lease: EtcdLease, budgetMs: number, stop: AbortSignal): Promise<{ kind: 'ok' } | { kind: 'lost' | 'unknown'; why: string }> {
    const check = (async (): Promise<{ kind: 'ok' } | { kind: 'lost'; why: string }> => {
      const ka = await lease.keepaliveOnce();
      if (Number(ka.TTL) <= 0) return { kind: 'lost', why: 'the etcd lease expired' };
      const holder = await this.#o.client.get(this.key).string();
      return holder === this.#o.identity ? { kind: 'ok' } : { kind: 'lost', why: `the key now names ${holder ?? 'nobody'}` };
    })();
    const timeout = this.#clock.sleep(budgetMs, stop).then(() => ({ kind: 'unknown' as const, why: 'etcd did not answer the keepalive in time' }));
    try {
      return await Promise.race([check, timeout]);
    } catch (err) {
      return { kind: 'unknown', why: `keepalive failed: ${errorMessage(err)}` };
    } finally {
      check.catch(() => {});
    }
  }

  #hold(lease: EtcdLease): Leadership {
    const lostController = new AbortController();
    const stop = new AbortController();
    const lose = (why: string): void => {
      if (lostController.signal.aborted) return;
      this.#o.onEvent?.('lost leadership', { identity: this.#o.identity, why });
      lostController.abort(new Error(`lost leadership: ${why}`));
      stop.abort();
    };
    const intervalMs = (this.#o.ttlSeconds * 1000) / 3;
    void (async () => {
      // The etcd lease lives 3 intervals past the last keepalive that got through; we stop
      // acting 2 intervals after it, so nobody else can lead while we still might. Until
      // then a failed or slow check is retried soon (another member of the cluster may
      // answer: one etcd member dying must not cost the leadership).
      let lastOk = this.#clock.now();
      let wait = intervalMs;
      while (!stop.signal.aborted) {
        await this.#clock.sleep(wait, stop.signal).catch(() => {});
        if (stop.signal.aborted) return;
        const budget = lastOk + 2 * intervalMs - this.#clock.now();
        if (budget <= 0) return lose('no keepalive got through for two intervals (etcd did not answer the keepalive in time)');
        const outcome = await this.#check(lease, budget, stop.signal);
        if (outcome.kind === 'ok') {
          lastOk = this.#clock.now();
          wait = intervalMs;
        } else if (outcome.kind === 'lost') {
          return lose(outcome.why);
        } else {
          this.#o.onEvent?.('keepalive did not get through; retrying', { identity: this.#o.identity, why: outcome.why, msLeft: Math.round(budget) });
          wait = Math.min(250, intervalMs / 4);
        }
      }
    })();
    return {
      identity: this.#o.identity,
      lost: lostController.signal,
      resign: async () => {
        stop.abort();
        if (!lostController.signal.aborted) lostController.abort(new Error('resigned'));
        await this.#revoke(lease);
      },
    };
  }
}
