// Leader election on one etcd key, `<prefix>/controller/leader`, holding the
// leader's identity under an etcd lease (TTL default 15 s). Taking it is a
// create-if-absent transaction; keeping it is a keepalive every TTL/3 plus a read
// of the key. Any doubt (keepalive failure, key gone or changed) aborts `lost`.
// We watch/poll the key ourselves: etcd3's ElectionObserver can report the wrong leader.
import type { Etcd3, Lease as EtcdLease } from 'etcd3';
import type { LeaderElector, Leadership } from './election.ts';
import { errorMessage } from '../errors.ts';
import { type Clock, realClock } from '../util/time.ts';

export interface EtcdElectorOptions {
  readonly client: Etcd3;
  readonly prefix: string;
  readonly identity: string;
  readonly ttlSeconds: number;
  readonly clock?: Clock;
  readonly onEvent?: (msg: string, fields?: Record<string, unknown>) => void;
}

export class EtcdElector implements LeaderElector {
  readonly #o: EtcdElectorOptions;
  readonly #clock: Clock;
  readonly key: string;

  constructor(opts: EtcdElectorOptions) {
    this.#o = opts;
    this.#clock = opts.clock ?? realClock;
    this.key = `${opts.prefix.replace(/\/+$/, '')}/controller/leader`;
  }

  async leader(_signal: AbortSignal): Promise<string | undefined> {
    return (await this.#o.client.get(this.key).string()) ?? undefined;
  }

  async campaign(signal: AbortSignal): Promise<Leadership> {
    const pollMs = Math.max(200, (this.#o.ttlSeconds * 1000) / 5);
    for (;;) {
      signal.throwIfAborted();
      try {
        const won = await this.#tryAcquire();
        if (won) return won;
      } catch (err) {
        this.#o.onEvent?.('election attempt failed', { err: errorMessage(err) });
      }
      await this.#clock.sleep(pollMs, signal);
    }
  }

  async #tryAcquire(): Promise<Leadership | undefined> {
    const lease = this.#o.client.lease(this.#o.ttlSeconds, { autoKeepAlive: false });
    const leaseId = await lease.grant();
    const res = await this.#o.client
      .if(this.key, 'Create', '==', 0)
      .then(this.#o.client.put(this.key).value(this.#o.identity).lease(leaseId))
      .commit();
    if (!res.succeeded) {
      await lease.revoke().catch(() => {});
      return undefined;
    }
    this.#o.onEvent?.('became leader', { identity: this.#o.identity, key: this.key });
    return this.#hold(lease);
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
      while (!stop.signal.aborted) {
        await this.#clock.sleep(intervalMs, stop.signal).catch(() => {});
        if (stop.signal.aborted) return;
        try {
          // Each check must finish within one interval: two intervals after the last
          // success are still short of the TTL, so we stop before anyone else can start.
          const check = (async (): Promise<string | undefined> => {
            const ka = await lease.keepaliveOnce();
            if (Number(ka.TTL) <= 0) return 'the etcd lease expired';
            const holder = await this.#o.client.get(this.key).string();
            return holder === this.#o.identity ? undefined : `the key now names ${holder ?? 'nobody'}`;
          })();
          const timeout = this.#clock.sleep(intervalMs, stop.signal).then(() => 'etcd did not answer the keepalive in time');
          const problem = await Promise.race([check, timeout]);
          if (problem) return lose(problem);
        } catch (err) {
          return lose(`keepalive failed: ${errorMessage(err)}`);
        }
      }
    })();
    return {
      identity: this.#o.identity,
      lost: lostController.signal,
      resign: async () => {
        stop.abort();
        if (!lostController.signal.aborted) lostController.abort(new Error('resigned'));
        await lease.revoke().catch(() => {});
      },
    };
  }
}
