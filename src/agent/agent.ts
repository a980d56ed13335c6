// The agent's lease lifecycle: prepare the backend, acquire (or keep) this host's
// subnet, write subnet.env, then three loops until the root signal aborts:
// watch the lease set, renew the lease before it expires, and reconcile the
// kernel with every peer (woken by events, plus a periodic resync).
// Shutdown removes nothing: the lease and the kernel state stay for a hitless restart.
import type { NetworkConfig } from '../config/network.ts';
import { errorMessage } from '../errors.ts';
import {
  type JsonValue, type Lease, LeaseSet, LeaseRevokedError, type LeaseHolder, type LeaseReader, type RouteStatus, type RouteStatusHeartbeat, type RouteStatusReader, freshnessBoundMs, withRouteDomain,
} from '../lease/index.ts';
import { LeaseValidator, heldDestinations, readerAddress } from '../lease/validate.ts';
import { type AcquirePlan, assertReusable, planAcquire } from '../lease/acquire.ts';
import { encodeLeaseAttrs } from '../lease/lease.ts';
import { QuotaExceededError } from '../errors.ts';
import type { Health } from '../observe/health.ts';
import { formatCidr } from '../net/cidr.ts';
import type { Cidr } from '../net/cidr.ts';
import { type AgentMetrics, recordInvalidLeases } from '../observe/metrics.ts';
import type { Logger } from '../observe/log.ts';
import { type Clock, realClock } from '../util/time.ts';
import { Wakeup } from '../util/wakeup.ts';
import { KernelApplyError } from '../kernel/index.ts';
import type { Backend, ExternalInterface } from './backend.ts';
import { type PeerPath, choosePaths } from './path.ts';
import type { RouteDomain } from './route-domain.ts';
import { readSubnetEnv, writeSubnetEnv } from './subnet-env.ts';

export interface AgentOptions {
  readonly store: LeaseReader & LeaseHolder;
  readonly config: NetworkConfig;
  readonly iface: ExternalInterface;
  readonly backend: Backend;
  readonly subnetFile: string;
  readonly ipMasq: boolean;
  /** Applies (or removes) the masquerade rules; absent where nothing is programmed. */
  readonly applyIpMasq?: ((enable: boolean, lease: Lease, signal: AbortSignal) => Promise<void>) | undefined;
  readonly renewMarginMs: number;
  readonly renewRetryMs?: number;
  readonly resyncMs: number;
  readonly log: Logger;
  readonly clock?: Clock;
  /** The networks the external interface is directly connected to: no peer lease may cover one. */
  readonly underlay?: readonly Cidr[] | undefined;
  readonly metrics?: AgentMetrics | undefined;
  /** Told of every turn of the reconcile loop (liveness) and every sync's result (readiness). */
  readonly health?: Health | undefined;
  /** How long ago a lease key was last written (one host per lease); absent, the check is skipped. */
  readonly leaseWrittenAgoMs?: ((key: string, signal: AbortSignal) => Promise<number | undefined>) | undefined;
  /**
   * Hybrid mode: this host's cloud network, published in BackendData, and the
   * controller's route status, read to leave VPC-routed peers out of the kernel.
   */
  readonly hybrid?: { readonly routeDomain: RouteDomain; readonly status: RouteStatusReader } | undefined;
  /**
   * Runs once after the first kernel sync succeeded (subnet.env written and every peer
   * programmed), beside the loops (Kubernetes: NetworkUnavailable=False on this node).
   */
  readonly afterFirstSync?: ((signal: AbortSignal) => Promise<void>) | undefined;
}

export interface AgentState {
  ready: boolean;
  lease?: Lease | undefined;
  lastReconcileAt?: number | undefined;
  lastError?: string | undefined;
  /** Each peer's path after the last reconcile (hybrid mode reports `cloud` for VPC-routed peers). */
  paths: Map<string, PeerPath>;
  /** Hybrid: whether the controller's route status was fresh at the last reconcile (undefined outside hybrid mode). */
  routeStatusFresh?: boolean | undefined;
  /** Kernel changes refused (or waiting out their backoff) after the last reconcile: a warning, never a liveness failure. */
  refused: number;
  /** Set while this host's lease holds attrs another writer put there: not ready, not renewed. */
  takenOver?: string | undefined;
}

/** How long one sync may take beyond the resync period before readiness (and, tripled, liveness) gives up on it. */
export const SYNC_DEADLINE_MS = 30_000;

export class Agent {
  readonly state: AgentState = { ready: false, paths: new Map(), refused: 0 };
  readonly #status = new Map<string, RouteStatus>();
  /** The controller's last heartbeat: from when (this agent's clock) and for how long its statuses may be trusted. */
  #heartbeat: { readonly at: number; readonly boundMs: number } | undefined;
  #statusFresh: boolean | undefined;
  readonly leases = new LeaseSet();
  readonly #opts: AgentOptions;
  readonly #clock: Clock;
  readonly #wake = new Wakeup();

  constructor(opts: AgentOptions) {
    this.#opts = opts;
    this.#clock = opts.clock ?? realClock;
  }

  /** Runs until `signal` aborts (resolves) or this host's lease is revoked (rejects). */
  async run(signal: AbortSignal): Promise<void> {
    const lease = await this.#start(signal);
    const inner = new AbortController();
    const stop = (): void => inner.abort(signal.reason);
    signal.addEventListener('abort', stop, { once: true });
    try {
      await Promise.all([
        this.#watch(inner.signal),
        this.#watchStatus(inner.signal),
        this.#renewLoop(lease, inner.signal),
        this.#reconcileLoop(lease, inner.signal),
      ].map((p) => p.catch((err: unknown) => {
        inner.abort(err);
        throw err;
      })));
    } catch (err) {
      if (signal.aborted && !(err instanceof LeaseRevokedError)) return;
      throw err;
    } finally {
      signal.removeEventListener('abort', stop);
    }
  }

  async #start(signal: AbortSignal): Promise<Lease> {
    const { config, iface, backend, log } = this.#opts;
    const env = readSubnetEnv(this.#opts.subnetFile);
    const previous = env ? { subnet: env.subnet, ipv6Subnet: env.ipv6Subnet } : undefined;
    // Everything that can refuse is checked before the kernel is touched (prepare creates flannel.1).
    const allocates = this.#opts.store.allocates !== false;
    const plan = allocates ? await this.#precheck(previous, signal) : undefined;
    const prepared = await backend.prepare(signal);
    const attrs = {
      publicIp: iface.publicIp,
      publicIpv6: config.ipv6 ? iface.publicIpv6 : undefined,
      backendType: backend.type,
      backendData: this.#withRouteDomain(prepared.backendData),
      backendV6Data: config.ipv6 ? prepared.backendV6Data : undefined,
    };
    if (plan?.kind === 'reuse' && this.#opts.leaseWrittenAgoMs) {
      assertReusable({ lease: plan.lease, attrs, writtenAgoMs: await this.#opts.leaseWrittenAgoMs(plan.lease.key, signal) });
    }
    const lease = await this.#opts.store.acquire(config, { attrs, previous }, signal);
    this.state.lease = lease;
    log.info({ lease: lease.key, publicIp: iface.publicIp, iface: iface.name, reservation: lease.reservation }, 'acquired lease');
    await backend.activate({ subnet: lease.subnet, ipv6Subnet: lease.ipv6Subnet }, signal);
    await this.#opts.applyIpMasq?.(this.#opts.ipMasq, lease, signal);
    writeSubnetEnv(this.#opts.subnetFile, {
      network: config.ipv4?.network,
      subnet: lease.subnet,
      ipv6Network: config.ipv6?.network,
      ipv6Subnet: lease.ipv6Subnet,
      mtu: prepared.mtu,
      ipMasq: this.#opts.ipMasq,
    });
    this.state.ready = true;
    this.#opts.health?.setReason('start', undefined);
    log.info({ file: this.#opts.subnetFile, mtu: prepared.mtu }, 'wrote subnet file');
    return lease;
  }

  /** The acquisition as it would go now (IPv6-only and an exhausted Network refuse here). */
  async #precheck(previous: { subnet?: Cidr | undefined; ipv6Subnet?: Cidr | undefined } | undefined, signal: AbortSignal): Promise<AcquirePlan> {
    const { config, iface, backend } = this.#opts;
    const snapshot = await this.#opts.store.list(signal);
    const plan = planAcquire({ config, leases: snapshot.leases, req: { attrs: { publicIp: iface.publicIp, backendType: backend.type }, previous } });
    if (plan.kind === 'exhausted') {
      throw new QuotaExceededError(`out of subnets: no free /${plan.pool.subnetLen} left in ${formatCidr(plan.pool.network)} (checked before touching the kernel)`);
    }
    return plan;
  }

  /** Another writer put attrs that are not ours into our lease: say so once, turn not-ready, never fight back. */
  #checkOwnLease(lease: Lease): void {
    const own = this.state.lease;
    if (!own || lease.key !== own.key) return;
    const foreign = encodeLeaseAttrs(lease.attrs) !== encodeLeaseAttrs(own.attrs);
    const why = foreign ? `lease ${own.key} was rewritten by another writer (PublicIP ${lease.attrs.publicIp}, BackendData ${JSON.stringify(lease.attrs.backendData)}): two hosts claim it; not renewing it` : undefined;
    if (why && !this.state.takenOver) this.#opts.log.error({ lease: own.key }, why);
    if (!why && this.state.takenOver) this.#opts.log.info({ lease: own.key }, 'this host\'s lease holds our attrs again');
    this.state.takenOver = why;
    this.#opts.health?.setReason('lease', why);
  }

  /** Adds RouteDomain / InstanceID to the backend's data (extra fields flannel hosts ignore). */
  #withRouteDomain(data: JsonValue | undefined): JsonValue | undefined {
    const domain = this.#opts.hybrid?.routeDomain;
    return domain ? withRouteDomain(data, domain) : data;
  }

  async #watchStatus(signal: AbortSignal): Promise<void> {
    const reader = this.#opts.hybrid?.status;
    if (!reader) return;
    const snapshot = await reader.snapshotRouteStatus(signal);
    for (const [k, v] of snapshot.statuses) this.#status.set(k, v);
    this.#heartbeatRead(snapshot.heartbeat);
    this.#wake.wake();
    await reader.watchRouteStatus({
      fromRevision: snapshot.revision + 1,
      signal,
      onChange: (key, status) => {
        if (status === undefined) this.#status.delete(key);
        else this.#status.set(key, status);
        this.#wake.wake();
      },
      onHeartbeat: (hb) => {
        // Seen now: the controller is alive and has just listed the tables.
        this.#heartbeat = hb ? { at: this.#clock.now(), boundMs: freshnessBoundMs(hb) } : undefined;
        this.#wake.wake();
      },
      onResync: (read) => {
        this.#status.clear();
        for (const [k, v] of read.statuses) this.#status.set(k, v);
        this.#heartbeatRead(read.heartbeat);
        this.#wake.wake();
      },
    });
  }

  /** A heartbeat read from a listing: its age is the controller's `observed` time against the wall clock. */
  #heartbeatRead(hb: RouteStatusHeartbeat | undefined): void {
    const age = hb ? Math.max(0, Date.now() - Date.parse(hb.observed)) : 0;
    this.#heartbeat = hb ? { at: this.#clock.now() - age, boundMs: freshnessBoundMs(hb) } : undefined;
  }

  /** Route status counts only while the controller's heartbeat is fresh; otherwise every peer takes the kernel path. */
  #trustedStatus(): ReadonlyMap<string, RouteStatus> {
    const hb = this.#heartbeat;
    const fresh = hb !== undefined && this.#clock.now() - hb.at <= hb.boundMs;
    if (fresh !== this.#statusFresh) {
      if (fresh) this.#opts.log.info('route status is fresh: peers the VPC routes leave the kernel path');
      else this.#opts.log.warn({ heartbeatAgeMs: hb ? this.#clock.now() - hb.at : null }, 'route status is stale or missing (no fresh controller heartbeat): every peer over the kernel path');
      this.#statusFresh = fresh;
    }
    this.state.routeStatusFresh = fresh;
    this.#opts.metrics?.routeStatusFresh.set(fresh ? 1 : 0);
    return fresh ? this.#status : NO_STATUS;
  }

  async #watch(signal: AbortSignal): Promise<void> {
    const snapshot = await this.#opts.store.list(signal);
    this.leases.reset(snapshot);
    this.#warnSkipped();
    this.leases.onChange(() => this.#wake.wake());
    this.#wake.wake();
    await this.#opts.store.watch({
      fromRevision: snapshot.revision + 1,
      signal,
      onEvents: (events) => {
        this.leases.apply(events);
        for (const ev of events) {
          if (ev.type === 'skipped') this.#warnSkipped([ev.skipped]);
          if (ev.type === 'put') this.#checkOwnLease(ev.lease);
        }
      },
      onConnection: (connected, err) => {
        this.leases.setConnected(connected);
        if (!connected) this.#opts.log.warn({ err: err && errorMessage(err) }, 'lost the lease store; the data plane stays as it is');
        else this.#opts.log.info('lease store watch connected');
      },
    });
  }

  #warnSkipped(list = this.leases.skipped()): void {
    for (const s of list) this.#opts.log.warn({ lease: s.key, err: s.error.message }, 'skipping a lease that does not parse');
  }

  async #renewLoop(initial: Lease, signal: AbortSignal): Promise<void> {
    let lease = initial;
    while (!signal.aborted && !lease.reservation && lease.expiresAt !== undefined) {
      const dueIn = Math.max(0, lease.expiresAt - this.#opts.renewMarginMs - this.#clock.now());
      await this.#clock.sleep(dueIn, signal);
      if (this.state.takenOver) {
        // Not fighting back and forth: the operator decides which host keeps the lease.
        await this.#clock.sleep(this.#opts.renewRetryMs ?? 60_000, signal);
        continue;
      }
      try {
        lease = await this.#opts.store.renew(lease, signal);
        this.state.lease = lease;
        this.#opts.log.info({ lease: lease.key, expiresAt: new Date(lease.expiresAt ?? 0).toISOString() }, 'renewed lease');
      } catch (err) {
        if (err instanceof LeaseRevokedError || signal.aborted) throw err;
        this.#opts.log.error({ lease: lease.key, err: errorMessage(err) }, 'lease renewal failed; retrying');
        await this.#clock.sleep(this.#opts.renewRetryMs ?? 60_000, signal);
      }
    }
  }

  /** The one lease validator, with this host's own rules (its lease, its addresses, its underlay). */
  #validator(own: Lease): LeaseValidator {
    const { iface } = this.#opts;
    const addresses = [iface.ipv4, iface.ipv6, iface.publicIp, iface.publicIpv6].filter((a): a is string => a !== undefined).map(readerAddress);
    return new LeaseValidator({
      config: this.#opts.config,
      reader: { ownKey: own.key, addresses: new Set(addresses), underlay: this.#opts.underlay },
      prefixRule: this.#opts.store.prefixRule,
    });
  }

  async #reconcileLoop(own: Lease, signal: AbortSignal): Promise<void> {
    const validator = this.#validator(own);
    const health = this.#opts.health;
    health?.watch('reconcile', { periodMs: this.#opts.resyncMs, deadlineMs: SYNC_DEADLINE_MS });
    health?.expect('sync', { periodMs: this.#opts.resyncMs, deadlineMs: SYNC_DEADLINE_MS });
    for (;;) {
      health?.tick('reconcile');
      const why = await this.#wake.wait(signal, this.#opts.resyncMs, 0, this.#clock);
      health?.tick('reconcile');
      if (this.leases.synced && !this.leases.get(own.key)) {
        this.#opts.log.error({ lease: own.key }, 'this host\'s lease was deleted from the store; exiting');
        throw new LeaseRevokedError(own.key);
      }
      if (!this.leases.synced) continue;
      const view = validator.validate(this.leases.all());
      for (const i of view.changed) this.#opts.log.warn({ lease: i.key, reason: i.reason, would: i.would }, `invalid lease set aside: ${i.message}`);
      if (this.#opts.metrics) recordInvalidLeases(this.#opts.metrics.invalidLeases, view.invalid);
      const peers = view.valid.filter((l) => l.key !== own.key);
      const plan = this.#opts.hybrid
        ? choosePaths({ routeDomain: this.#opts.hybrid.routeDomain.id, peers, status: this.#trustedStatus() })
        : { cloud: [], kernel: peers };
      try {
        // A lease event diffs against what was applied; the periodic resync reads the kernel.
        // VPC-routed peers are left out: the backend removes their kernel objects only
        // now, after the controller reported their cloud route programmed.
        let refused = 0;
        try {
          await this.#opts.backend.reconcile(plan.kernel, signal, { observe: why === 'timeout', held: heldDestinations(view.invalid) });
        } catch (err) {
          // Some peers' objects were refused (each logged once by the backend, retried with
          // backoff); every other change is in place. A warning, not a failed sync.
          if (!(err instanceof KernelApplyError)) throw err;
          refused = err.failed.length + err.deferred;
        }
        this.state.refused = refused;
        this.#opts.metrics?.kernelRefused.set(refused);
        health?.setDetail('refused', refused > 0 ? `${refused} kernel changes refused (see the log)` : undefined);
        health?.succeeded();
        this.#firstSync(signal);
        this.state.paths = new Map([...plan.cloud.map((l) => [l.key, 'cloud'] as const), ...plan.kernel.map((l) => [l.key, 'kernel'] as const)]);
        this.state.lastReconcileAt = this.#clock.now();
        this.state.lastError = undefined;
      } catch (err) {
        if (signal.aborted) throw err;
        this.state.lastError = errorMessage(err);
        health?.failed(this.state.lastError);
        this.#opts.log.error({ err: errorMessage(err), trigger: why }, 'kernel reconcile failed; will retry at the next resync');
      }
    }
  }

  #firstSyncDone = false;

  /** The after-first-sync hook, once, beside the loops: it retries on its own and never blocks a sync. */
  #firstSync(signal: AbortSignal): void {
    const hook = this.#opts.afterFirstSync;
    if (this.#firstSyncDone || !hook) return;
    this.#firstSyncDone = true;
    hook(signal).catch((err: unknown) => {
      if (!signal.aborted) this.#opts.log.error({ err: errorMessage(err) }, 'after-first-sync step failed');
    });
  }
}

const NO_STATUS: ReadonlyMap<string, RouteStatus> = new Map();
