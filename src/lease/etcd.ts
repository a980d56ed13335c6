// Leases in etcd, bit-compatible with flannel: `<prefix>/subnets/<key>` holding
// LeaseAttrs JSON, kept alive by a 24 h etcd lease; a key without an etcd lease is
// a reservation. tartan's additions (`<prefix>/routes/…`) sit beside, never inside.
// Route status is kept per route domain, `<prefix>/routes/<domain-slug>/<subnet-key>`
// and its `heartbeat`: each cloud's controller writes, and each agent reads, its own
// domain's (routeStatusFor). A store without a route domain sees only the keys
// directly under `<prefix>/routes/` (tests, and controllers from before the scoping).
import type { Etcd3, IKeyValue, IRequestOp } from 'etcd3';
import type { NetworkConfig } from '../config/network.ts';
import { parseNetworkConfig } from '../config/network.ts';
import { ConflictError, InvalidInputError, QuotaExceededError, errorMessage } from '../errors.ts';
import { formatCidr } from '../net/cidr.ts';
import { type Clock, realClock } from '../util/time.ts';
import { planAcquire } from './acquire.ts';
import { type Lease, type LeaseAttrs, decodeLeaseAttrs, encodeLeaseAttrs, parseSubnetKey, subnetKey } from './lease.ts';
import {
  type AcquireRequest, type LeaseEvent, type LeaseHolder, type LeaseReader, type LeaseSnapshot, type NetworkConfigSource,
  type RouteStatusSnapshot, type RouteStatusStore, type RouteStatusWatchOptions, type SkippedLease, LeaseRevokedError, ROUTE_STATUS_BATCH,
} from './store.ts';
import { type RawEvent, watchPrefix } from './etcd-watch.ts';
import { type EtcdTrust, EtcdDeadlineError, etcdCall } from './etcd-call.ts';
import { etcdClientSettings } from './etcd-client.ts';
import { routeDomainSlug } from './hybrid.ts';
import {
  HEARTBEAT_KEY, type PublishedRouteStatus, type RouteStatusHeartbeat, type RouteStatusRead, decodeRouteStatuses, encodeHeartbeat, encodeRouteStatus, sameRouteStatus,
} from './route-status.ts';

export const DEFAULT_PREFIX = '/coreos.com/network';
export const DEFAULT_LEASE_TTL_SECONDS = 24 * 60 * 60;
const MAX_ACQUIRE_ATTEMPTS = 50;
/** For clean-up requests (revoking a grant) that must run even when the caller's signal has aborted; the deadline still bounds them. */
const UNTIL_DEADLINE = new AbortController().signal;

interface Grant {
  readonly id: string;
  readonly expiresAt: number;
}

export interface EtcdLeaseStoreOptions {
  readonly client: Etcd3;
  readonly prefix?: string;
  readonly leaseTtlSeconds?: number;
  readonly clock?: Clock;
  readonly random?: () => number;
  /** Deadline of each etcd request (default: the client's, 5 s). */
  readonly callTimeoutMs?: number;
  /** Whose route status this store reads and writes (see routeStatusFor). */
  readonly routeDomain?: string | undefined;
}

/** A put that leaves value and reservation-ness as they were (a renewal moves the key to a new etcd lease). */
function unchangedLease(ev: RawEvent): boolean {
  const prev = ev.prevKv;
  return ev.type === 'put' && prev !== undefined && prev.value.equals(ev.kv.value) && (prev.lease === '0') === (ev.kv.lease === '0');
}

/** An abandoned request (deadline, abort) may still have been applied by etcd. */
function outcomeUnknown(err: unknown, signal: AbortSignal): boolean {
  return err instanceof EtcdDeadlineError || signal.aborted || (err instanceof Error && /DeadlineExceeded|Cancelled/.test(err.constructor.name));
}

export class EtcdLeaseStore implements LeaseReader, LeaseHolder, NetworkConfigSource, RouteStatusStore {
  readonly prefix: string;
  readonly #client: Etcd3;
  readonly #ttl: number;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #requests = new Map<string, number>();
  readonly #timeoutMs: number;
  readonly #trust: EtcdTrust;
  readonly #opts: EtcdLeaseStoreOptions;
  readonly #routesPrefix: string;

  constructor(opts: EtcdLeaseStoreOptions) {
    this.#opts = opts;
    this.#client = opts.client;
    const settings = etcdClientSettings(opts.client);
    this.#timeoutMs = opts.callTimeoutMs ?? settings.callTimeoutMs;
    this.#trust = settings.trust;
    this.prefix = (opts.prefix ?? DEFAULT_PREFIX).replace(/\/+$/, '');
    this.#ttl = opts.leaseTtlSeconds ?? DEFAULT_LEASE_TTL_SECONDS;
    this.#clock = opts.clock ?? realClock;
    this.#random = opts.random ?? Math.random;
    this.#routesPrefix = `${this.prefix}/routes/${opts.routeDomain === undefined ? '' : `${routeDomainSlug(opts.routeDomain)}/`}`;
  }

  /** The same store, its route status scoped to one route domain: `<prefix>/routes/<domain-slug>/`. */
  routeStatusFor(routeDomain: string): EtcdLeaseStore {
    return new EtcdLeaseStore({ ...this.#opts, routeDomain });
  }

  get subnetsPrefix(): string {
    return `${this.prefix}/subnets/`;
  }

  /** etcd requests made, by kind (for the bench's requests-per-acquisition figure). */
  requestCounts(): Readonly<Record<string, number>> {
    return Object.fromEntries(this.#requests);
  }

  async getNetworkConfig(signal: AbortSignal): Promise<NetworkConfig> {
    const key = `${this.prefix}/config`;
    const text = await this.#call('get', `read ${key}`, signal, () => this.#client.get(key).string());
    if (text === null) throw new InvalidInputError(`etcd key ${key}`, undefined, 'network config not found; write flannel\'s JSON config there first');
    return parseNetworkConfig(text, `etcd key ${key}`);
  }

  async list(signal: AbortSignal): Promise<LeaseSnapshot> {
    const res = await this.#call('range', `list ${this.subnetsPrefix}`, signal, () => this.#client.getAll().prefix(this.subnetsPrefix).exec());
    const leases: Lease[] = [];
    const skipped: SkippedLease[] = [];
    for (const kv of res.kvs) {
      const decoded = this.decode(kv);
      if ('lease' in decoded) leases.push(decoded.lease);
      else skipped.push(decoded.skipped);
    }
    return { leases, skipped, revision: Number(res.header.revision) };
  }

  /** A watched or listed key-value → a lease, or the reason it was skipped. */
  decode(kv: IKeyValue): { lease: Lease } | { skipped: SkippedLease } {
    const key = kv.key.toString('utf8').slice(this.subnetsPrefix.length);
    try {
      const { subnet, ipv6Subnet } = parseSubnetKey(key);
      const attrs = decodeLeaseAttrs(key, kv.value.toString('utf8'));
      return { lease: { key, subnet, ipv6Subnet, attrs, reservation: kv.lease === '0', revision: Number(kv.mod_revision), createdRevision: Number(kv.create_revision) } };
    } catch (err) {
      return { skipped: { key, error: err instanceof Error ? err : new Error(String(err)) } };
    }
  }

  async watch(opts: Parameters<LeaseReader['watch']>[0]): Promise<void> {
    await watchPrefix({
      client: this.#client,
      prefix: this.subnetsPrefix,
      fromRevision: opts.fromRevision,
      signal: opts.signal,
      clock: this.#clock,
      onConnection: opts.onConnection,
      relist: (signal) => this.list(signal),
      onEvents: (raw, resync) => {
        if (resync) {
          opts.onEvents([{ type: 'resync', snapshot: resync }]);
          return;
        }
        // A renewal (the same value on a new etcd lease) changes nothing a lease holds: no event.
        const events: LeaseEvent[] = raw.filter((ev) => !unchangedLease(ev)).map((ev) => {
          if (ev.type === 'delete') {
            return { type: 'delete', key: ev.kv.key.toString('utf8').slice(this.subnetsPrefix.length), revision: Number(ev.kv.mod_revision) };
          }
          const decoded = this.decode(ev.kv);
          return 'lease' in decoded ? { type: 'put', lease: decoded.lease } : { type: 'skipped', skipped: decoded.skipped };
        });
        if (events.length > 0) opts.onEvents(events);
      },
    });
  }

  async acquire(config: NetworkConfig, req: AcquireRequest, signal: AbortSignal): Promise<Lease> {
    const avoid = [];
    // One etcd lease serves every attempt; it is revoked if no attempt uses it, unless a
    // write was abandoned (deadline, abort): etcd may have attached a key to it, which
    // revoking would delete. Left alone, it expires with its TTL, or the next acquire
    // finds the key as this host's lease and moves it to a new grant.
    let grant: Grant | undefined;
    let unknown = false;
    try {
      for (let attempt = 0; attempt < MAX_ACQUIRE_ATTEMPTS; attempt++) {
        signal.throwIfAborted();
        const snapshot = await this.list(signal);
        const plan = planAcquire({ config, leases: snapshot.leases, req, avoid, random: this.#random, lostRaces: avoid.length });
        for (const key of plan.deleteKeys) {
          await this.#call('delete', `delete ${this.subnetsPrefix + key}`, signal, () => this.#client.delete().key(this.subnetsPrefix + key).exec());
        }
        if (plan.kind === 'exhausted') {
          throw new QuotaExceededError(`out of subnets: no free /${plan.pool.subnetLen} left in ${formatCidr(plan.pool.network)} between SubnetMin ${formatCidr(plan.pool.subnetMin)} and SubnetMax ${formatCidr(plan.pool.subnetMax)}`);
        }
        const reservation = plan.kind === 'reuse' && plan.lease.reservation;
        if (!reservation) grant ??= await this.#grant(signal);
        if (plan.kind === 'reuse') {
          const lease = await this.#write(plan.lease.key, req.attrs, { grant: reservation ? undefined : grant, mustExist: true, signal });
          grant = undefined;
          return lease;
        }
        try {
          const lease = await this.#write(subnetKey(plan.subnet, plan.ipv6Subnet), req.attrs, { grant, mustExist: false, signal });
          grant = undefined;
          return lease;
        } catch (err) {
          if (!(err instanceof ConflictError)) throw err;
          // Lost the race for this subnet to another host: flannel gives up here; we pick again.
          avoid.push(plan.subnet);
          await this.#clock.sleep(Math.floor(this.#random() * 20), signal);
        }
      }
      throw new ConflictError(`could not acquire a subnet after ${MAX_ACQUIRE_ATTEMPTS} attempts: every choice was taken by another host first`);
    } catch (err) {
      unknown = outcomeUnknown(err, signal);
      throw err;
    } finally {
      if (grant && !unknown) await this.#revoke(grant.id);
    }
  }

  async renew(lease: Lease, signal: AbortSignal): Promise<Lease> {
    if (lease.reservation) return lease;
    const grant = await this.#grant(signal);
    try {
      return await this.#write(lease.key, lease.attrs, { grant, mustExist: true, signal });
    } catch (err) {
      // After an abandoned write the key may hold the new grant: revoking it would delete
      // the lease. The next renewal moves the key on and revokes whichever grant it held.
      if (!outcomeUnknown(err, signal)) await this.#revoke(grant.id);
      throw err;
    }
  }

  async #grant(signal: AbortSignal): Promise<Grant> {
    const at = this.#clock.now();
    const res = await this.#call('leaseGrant', 'grant an etcd lease', signal, () => this.#client.leaseClient.leaseGrant({ TTL: this.#ttl }));
    return { id: res.ID, expiresAt: at + this.#ttl * 1000 };
  }

  /**
   * Writes a lease key in one transaction: `version == 0` for a new lease,
   * `version > 0` for a renewal/reuse (so a deleted key is never brought back).
   * Without a grant the key has no etcd lease: a reservation stays a reservation.
   * The etcd lease the key held before is revoked once the new one is in place.
   */
  async #write(key: string, attrs: LeaseAttrs, opts: { grant: Grant | undefined; mustExist: boolean; signal: AbortSignal }): Promise<Lease> {
    const fullKey = this.subnetsPrefix + key;
    const previous = opts.mustExist ? await this.#call('range', `read ${fullKey}`, opts.signal, () => this.#client.get(fullKey).exec()) : undefined;
    const put = this.#client.put(fullKey).value(encodeLeaseAttrs(attrs));
    if (opts.grant) put.lease(opts.grant.id);
    const txn = this.#client.if(fullKey, 'Version', opts.mustExist ? '>' : '==', 0).then(put);
    const res = await this.#call('txn', `write ${fullKey}`, opts.signal, () => txn.commit());
    if (!res.succeeded) {
      if (opts.mustExist) throw new LeaseRevokedError(key);
      throw new ConflictError(`subnet ${key} was taken by another host first`);
    }
    const oldLease = previous?.kvs[0]?.lease;
    if (oldLease && oldLease !== '0' && oldLease !== opts.grant?.id) await this.#revoke(oldLease);
    const { subnet, ipv6Subnet } = parseSubnetKey(key);
    return {
      key, subnet, ipv6Subnet, attrs, reservation: !opts.grant, revision: Number(res.header.revision),
      expiresAt: opts.grant?.expiresAt,
    };
  }

  async #revoke(id: string): Promise<void> {
    try {
      await this.#call('leaseRevoke', `revoke etcd lease ${id}`, UNTIL_DEADLINE, () => this.#client.leaseClient.leaseRevoke({ ID: id }));
    } catch (err) {
      // The lease may already be gone; an orphan etcd lease expires on its own.
      if (!/not found/i.test(errorMessage(err))) throw err;
    }
  }

  // --- route status (controller → agents, audit) ---------------------------
  get routesPrefix(): string {
    return this.#routesPrefix;
  }

  /** The status key below routesPrefix, or undefined for a key of another scope (a route domain's, seen from the unscoped store). */
  #statusKey(kv: IKeyValue): string | undefined {
    const key = kv.key.toString('utf8').slice(this.routesPrefix.length);
    return key.includes('/') ? undefined : key;
  }

  async listRouteStatus(signal: AbortSignal): Promise<RouteStatusRead> {
    return await this.snapshotRouteStatus(signal);
  }

  async snapshotRouteStatus(signal: AbortSignal): Promise<RouteStatusSnapshot> {
    const res = await this.#call('range', `list ${this.routesPrefix}`, signal, () => this.#client.getAll().prefix(this.routesPrefix).exec());
    const read = decodeRouteStatuses(res.kvs.flatMap((kv) => {
      const key = this.#statusKey(kv);
      return key === undefined ? [] : [[key, kv.value.toString('utf8')] as const];
    }));
    return { ...read, revision: Number(res.header.revision) };
  }

  async watchRouteStatus(opts: RouteStatusWatchOptions): Promise<void> {
    await watchPrefix({
      client: this.#client,
      prefix: this.routesPrefix,
      fromRevision: opts.fromRevision,
      signal: opts.signal,
      clock: this.#clock,
      relist: (signal) => this.snapshotRouteStatus(signal),
      onEvents: (raw, resync) => {
        if (resync) {
          opts.onResync(resync);
          return;
        }
        for (const ev of raw) {
          const key = this.#statusKey(ev.kv);
          if (key === undefined) continue;
          if (key === HEARTBEAT_KEY) {
            opts.onHeartbeat?.(ev.type === 'delete' ? undefined : decodeRouteStatuses([[key, ev.kv.value.toString('utf8')]]).heartbeat);
            continue;
          }
          // A value that does not decode reads as "not programmed": the agent keeps the kernel path.
          const status = ev.type === 'delete' ? undefined : decodeRouteStatuses([[key, ev.kv.value.toString('utf8')]]).statuses.get(key);
          opts.onChange(key, status);
        }
      },
    });
  }

  async writeHeartbeat(heartbeat: RouteStatusHeartbeat, signal: AbortSignal): Promise<void> {
    const key = this.routesPrefix + HEARTBEAT_KEY;
    await this.#call('put', `write ${key}`, signal, () => this.#client.put(key).value(encodeHeartbeat(heartbeat)).exec());
  }

  async putRouteStatus(key: string, status: PublishedRouteStatus, signal: AbortSignal): Promise<void> {
    await this.#call('put', `write ${this.routesPrefix + key}`, signal, () => this.#client.put(this.routesPrefix + key).value(encodeRouteStatus(status)).exec());
  }

  /** Writes only what differs from what is stored (one range read first when there are puts). */
  async writeRouteStatuses(puts: ReadonlyMap<string, PublishedRouteStatus>, deletes: readonly string[], signal: AbortSignal): Promise<void> {
    const stored = puts.size > 0 ? (await this.snapshotRouteStatus(signal)).statuses : new Map<string, PublishedRouteStatus>();
    const changed = [...puts].filter(([key, status]) => {
      const before = stored.get(key);
      return before === undefined || !sameRouteStatus(before, status);
    });
    const ops: IRequestOp[] = [
      ...changed.map(([key, status]): IRequestOp => ({ request_put: { key: Buffer.from(this.routesPrefix + key), value: Buffer.from(encodeRouteStatus(status)) } })),
      ...deletes.map((key): IRequestOp => ({ request_delete_range: { key: Buffer.from(this.routesPrefix + key) } })),
    ];
    for (let i = 0; i < ops.length; i += ROUTE_STATUS_BATCH) {
      const success = ops.slice(i, i + ROUTE_STATUS_BATCH);
      await this.#call('txn', `write ${this.routesPrefix}…`, signal, () => this.#client.kv.txn({ success }));
    }
  }

  /** Counts the request (by kind) and bounds it: deadline, signal, TLS/auth errors named (etcd-call.ts). */
  async #call<T>(kind: string, what: string, signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
    this.#requests.set(kind, (this.#requests.get(kind) ?? 0) + 1);
    return await etcdCall({ what, signal, timeoutMs: this.#timeoutMs, trust: this.#trust }, fn);
  }
}
