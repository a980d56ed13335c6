// Leases from Kubernetes Nodes (flannel's --kube-subnet-mgr), behind the same
// interfaces as the etcd store: a node's spec.podCIDR(s) is its subnet,
// kube-controller-manager assigns it (there is nothing to allocate, reserve or renew),
// flannel's annotations carry the lease attrs, tartan's annotations carry the
// controller's route status and heartbeat. All reads come from one NodeCache (one
// list + watch per process); writes are strategic-merge patches to nodes/<n>/status,
// sent only when something differs, which is what flannel's ClusterRole allows.
import type { NetworkConfig } from '../config/network.ts';
import { InvalidInputError, errorMessage } from '../errors.ts';
import { contains, formatCidr } from '../net/cidr.ts';
import { type Clock, backoffDelay, realClock } from '../util/time.ts';
import { type KubeApi, KubeApiError } from './kube-client.ts';
import {
  type AnnotationKeys, type NodeLease, type NodeView, ROUTE_STATUS_ANNOTATION, annotationPatch, heartbeatAnnotation, nodeLease, nodePodCidrs, ownAnnotations,
} from './kube-node.ts';
import { type NodeChange, NodeCache } from './kube-nodes.ts';
import { type Lease, encodeLeaseAttrs, subnetKey } from './lease.ts';
import {
  type PublishedRouteStatus, type RouteStatusHeartbeat, type RouteStatusRead, decodeHeartbeat, decodeRouteStatus, encodeHeartbeat, encodeRouteStatus, sameRouteStatus,
} from './route-status.ts';
import type {
  AcquireRequest, LeaseEvent, LeaseHolder, LeaseReader, LeaseSnapshot, RouteStatusReader, RouteStatusSnapshot, RouteStatusStore, RouteStatusWatchOptions, SkippedLease, WatchOptions,
} from './store.ts';

/** The condition flannel sets once subnet.env is written (tartan's own reason string). */
export const NETWORK_UNAVAILABLE_REASON = 'TartanIsUp';
const STATUS_PATCH_CONCURRENCY = 16;

export interface KubeLeaseStoreOptions {
  readonly api: KubeApi;
  readonly keys: AnnotationKeys;
  /** The process's lifetime: the node list + watch runs until it aborts. */
  readonly lifetime: AbortSignal;
  /** Whether leases carry IPv6 (net-conf EnableIPv6). */
  readonly ipv6: boolean;
  /** This host's node (the agent); the controller and the audit have none. */
  readonly nodeName?: string | undefined;
  /** Route domain whose controller heartbeat is read (agent) or written (controller). */
  readonly routeDomain?: string | undefined;
  /** The node the controller writes its heartbeat on (its own node, from NODE_NAME). */
  readonly heartbeatNode?: string | undefined;
  readonly clock?: Clock | undefined;
  readonly log?: ((level: 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown>) => void) | undefined;
  /** Told why the own lease is not there yet (no node, no podCIDR), and undefined once it is. */
  readonly onWaiting?: ((why: string | undefined) => void) | undefined;
  /** How often to say it again while waiting (default 30 s). */
  readonly waitLogMs?: number | undefined;
}

export class KubeLeaseStore implements LeaseReader, LeaseHolder, RouteStatusStore, RouteStatusReader {
  /** Subnets are assigned by kube-controller-manager (spec.podCIDR), not allocated here. */
  readonly allocates = false;
  readonly prefixRule = 'at-least-network';
  readonly cache: NodeCache;
  readonly #o: KubeLeaseStoreOptions;
  readonly #clock: Clock;
  #heartbeatWarned = false;
  /** Each view parsed once: a NodeView is never changed, a changed Node arrives as a new view. */
  readonly #parsed = new WeakMap<NodeView, NodeLease>();

  constructor(o: KubeLeaseStoreOptions) {
    this.#o = o;
    this.#clock = o.clock ?? realClock;
    this.cache = new NodeCache({ api: o.api, keys: o.keys, clock: this.#clock, onLog: (level, msg, fields) => o.log?.(level, msg, fields) });
  }

  async #ready(signal: AbortSignal): Promise<void> {
    this.cache.start(this.#o.lifetime);
    await this.cache.synced(signal);
  }

  /** The view as a lease (revision 0: a Node has no etcd revision; watch events carry the cache's sequence). */
  #lease(view: NodeView): NodeLease {
    let parsed = this.#parsed.get(view);
    if (!parsed) {
      parsed = nodeLease(view, this.#o.keys, { ipv6: this.#o.ipv6, revision: 0 });
      this.#parsed.set(view, parsed);
    }
    return parsed;
  }

  // ---- LeaseReader ----

  async list(signal: AbortSignal): Promise<LeaseSnapshot> {
    await this.#ready(signal);
    return this.#snapshot();
  }

  #snapshot(): LeaseSnapshot {
    const leases: Lease[] = [];
    const skipped: SkippedLease[] = [];
    for (const view of this.cache.nodes()) {
      const nl = this.#lease(view);
      if (nl.kind === 'lease') leases.push(nl.lease);
      else if (nl.kind === 'malformed') skipped.push({ key: `node/${view.name}`, error: nl.error });
    }
    return { leases, skipped, revision: this.cache.seq };
  }

  async watch(opts: WatchOptions): Promise<void> {
    await this.#ready(opts.signal);
    const deliver = (changes: readonly NodeChange[]): void => {
      const events = changes.flatMap((c) => this.#leaseEvents(c));
      if (events.length > 0) opts.onEvents(events);
    };
    await this.#follow(opts.fromRevision, opts.signal, deliver, () => opts.onEvents([{ type: 'resync', snapshot: this.#snapshot() }]), opts.onConnection);
  }

  /** Replays what happened after `fromRevision - 1`, then follows until the signal aborts. */
  async #follow(
    fromRevision: number, signal: AbortSignal, deliver: (changes: readonly NodeChange[]) => void, resync: () => void,
    onConnection?: (connected: boolean, err?: Error) => void,
  ): Promise<void> {
    const missed = this.cache.since(fromRevision - 1);
    if (missed === undefined) resync();
    else deliver(missed);
    const unsubscribe = this.cache.subscribe(deliver);
    const unwatch = onConnection ? this.cache.onConnection(onConnection) : undefined;
    try {
      await new Promise<void>((resolve) => {
        if (signal.aborted) resolve();
        signal.addEventListener('abort', () => resolve(), { once: true });
      });
    } finally {
      unsubscribe();
      unwatch?.();
    }
  }

  /** A node change as lease events: what the node was, what it is. */
  #leaseEvents(c: NodeChange): LeaseEvent[] {
    const before = c.before ? this.#lease(c.before) : undefined;
    const beforeKey = before?.kind === 'lease' ? before.lease.key : undefined;
    if (c.type === 'delete') return beforeKey ? [{ type: 'delete', key: beforeKey, revision: c.seq }] : [];
    const after = this.#lease(c.after);
    const name = c.after.name;
    if (after.kind === 'unmanaged') return beforeKey ? [{ type: 'delete', key: beforeKey, revision: c.seq }] : [];
    if (after.kind === 'malformed') return [{ type: 'skipped', skipped: { key: beforeKey ?? `node/${name}`, error: after.error } }];
    const lease = { ...after.lease, revision: c.seq };
    if (before?.kind === 'lease' && beforeKey === lease.key && encodeLeaseAttrs(before.lease.attrs) === encodeLeaseAttrs(lease.attrs)) return [];
    const out: LeaseEvent[] = [];
    if (beforeKey && beforeKey !== lease.key) out.push({ type: 'delete', key: beforeKey, revision: c.seq });
    out.push({ type: 'put', lease });
    return out;
  }

  // ---- LeaseHolder ----

  /**
   * This node's lease: waits (saying why, again every 30 s) until the node exists and has
   * a podCIDR inside Network, then writes flannel's annotations when they differ.
   */
  async acquire(config: NetworkConfig, req: AcquireRequest, signal: AbortSignal): Promise<Lease> {
    const name = this.#ownName();
    await this.#ready(signal);
    const view = await this.#waitForCidr(config, name, signal);
    const cidrs = nodePodCidrs(view);
    const subnet = cidrs.v4!;
    const ipv6Subnet = config.ipv6 ? cidrs.v6 : undefined;
    const annotations = ownAnnotations({ ...req.attrs, publicIpv6: ipv6Subnet ? req.attrs.publicIpv6 : undefined }, this.#o.keys, view.annotations);
    const attrs = {
      ...req.attrs,
      publicIp: annotations[this.#o.keys.publicIp]!,
      publicIpv6: ipv6Subnet ? annotations[this.#o.keys.publicIpv6] : undefined,
      backendV6Data: ipv6Subnet ? req.attrs.backendV6Data : undefined,
    };
    await this.#patchUntilDone(name, () => annotationPatch(this.cache.get(name)?.annotations ?? view.annotations, annotations), signal, 'write the lease annotations');
    return { key: subnetKey(subnet, ipv6Subnet), subnet, ipv6Subnet, attrs, reservation: false, revision: this.cache.seq };
  }

  /** Nothing expires in Kubernetes mode (flannel reports now + 24 h and never renews). */
  async renew(lease: Lease): Promise<Lease> {
    return lease;
  }

  #ownName(): string {
    const name = this.#o.nodeName;
    if (!name) throw new InvalidInputError('NODE_NAME', name, 'is needed in Kubernetes mode (or POD_NAME and POD_NAMESPACE)');
    return name;
  }

  async #waitForCidr(config: NetworkConfig, name: string, signal: AbortSignal): Promise<NodeView> {
    let lastSaid = -Infinity;
    let lastWhy: string | undefined;
    for (;;) {
      const view = this.cache.get(name);
      const why = view ? this.#cidrProblem(config, view) : `node ${JSON.stringify(name)} does not exist (yet)`;
      if (why === undefined && view) {
        if (lastWhy !== undefined) this.#o.log?.('info', 'this node\'s podCIDR is assigned', { node: name, podCIDRs: view.podCIDRs ?? view.podCIDR });
        this.#o.onWaiting?.(undefined);
        return view;
      }
      if (why !== lastWhy || this.#clock.now() - lastSaid >= (this.#o.waitLogMs ?? 30_000)) {
        this.#o.log?.('warn', why!, { node: name });
        lastSaid = this.#clock.now();
        lastWhy = why;
        this.#o.onWaiting?.(why);
      }
      await this.#changed(signal, 1000);
    }
  }

  /** Why this node's podCIDRs are not usable yet; an out-of-Network CIDR is a configuration error. */
  #cidrProblem(config: NetworkConfig, view: NodeView): string | undefined {
    const cidrs = nodePodCidrs(view);
    if (!cidrs.v4 && !cidrs.v6) {
      return `node ${JSON.stringify(view.name)} has no spec.podCIDR: kube-controller-manager assigns it only with --allocate-node-cidrs=true and --cluster-cidr (waiting for it)`;
    }
    const check = (family: 'IPv4' | 'IPv6', cidr: typeof cidrs.v4, network: typeof config.ipv4): string | undefined => {
      if (!network) return undefined;
      if (!cidr) return `node ${JSON.stringify(view.name)} has no ${family} podCIDR but the network config enables ${family} (waiting for it)`;
      if (!contains(network.network, cidr)) {
        throw new InvalidInputError(`node ${view.name} spec.podCIDRs`, formatCidr(cidr), `lies outside the network config's ${family === 'IPv4' ? 'Network' : 'IPv6Network'} ${formatCidr(network.network)} (kube-controller-manager --cluster-cidr must match net-conf.json)`);
      }
      return undefined;
    };
    return check('IPv4', cidrs.v4, config.ipv4) ?? check('IPv6', cidrs.v6, config.ipv6);
  }

  /** Resolves when the node cache changes or after `ms`. */
  async #changed(signal: AbortSignal, ms: number): Promise<void> {
    const ac = new AbortController();
    const onAbort = (): void => ac.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    const unsubscribe = this.cache.subscribe(() => ac.abort());
    try {
      await this.#clock.sleep(ms, ac.signal).catch(() => {});
    } finally {
      unsubscribe();
      signal.removeEventListener('abort', onAbort);
    }
    signal.throwIfAborted();
  }

  /** Patches nodes/<name>/status until it succeeds (backoff 1 s → 30 s), or nothing differs any more. */
  async #patchUntilDone(name: string, patch: () => object | undefined, signal: AbortSignal, what: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const body = patch();
      if (body === undefined) return;
      try {
        await this.#patchStatus(name, body, signal);
        return;
      } catch (err) {
        if (signal.aborted) throw err;
        const retryMs = err instanceof KubeApiError && err.retryAfterSeconds !== undefined ? err.retryAfterSeconds * 1000 : backoffDelay(attempt, 1000, 30_000);
        this.#o.log?.('warn', `could not ${what}; retrying`, { node: name, err: errorMessage(err), retryMs });
        await this.#clock.sleep(retryMs, signal);
      }
    }
  }

  #patchStatus(name: string, body: object, signal: AbortSignal): Promise<unknown> {
    return this.#o.api.request({ method: 'PATCH', path: `/api/v1/nodes/${encodeURIComponent(name)}/status`, body, patch: 'strategic', signal });
  }

  /** flannel's CompleteLease: NetworkUnavailable=False on this node, one patch, retried until it lands. */
  async markNetworkAvailable(signal: AbortSignal): Promise<void> {
    const name = this.#ownName();
    const now = new Date(this.#clock.now()).toISOString().replace(/\.\d+Z$/, 'Z');
    const condition = { type: 'NetworkUnavailable', status: 'False', reason: NETWORK_UNAVAILABLE_REASON, message: 'tartan is running on this node', lastTransitionTime: now, lastHeartbeatTime: now };
    await this.#patchUntilDone(name, () => ({ status: { conditions: [condition] } }), signal, 'set NetworkUnavailable=False');
  }

  // ---- route status: annotations on the nodes ----

  async listRouteStatus(signal: AbortSignal): Promise<RouteStatusRead> {
    await this.#ready(signal);
    return this.#readStatuses();
  }

  /** The statuses with another route domain's heartbeat (the audit reads the cloud's and the host's own). */
  routeStatusFor(routeDomain: string): Pick<RouteStatusStore, 'listRouteStatus'> {
    return {
      listRouteStatus: async (signal) => {
        await this.#ready(signal);
        return this.#readStatuses(routeDomain);
      },
    };
  }

  #readStatuses(routeDomain = this.#o.routeDomain ?? ''): RouteStatusRead {
    const statuses = new Map<string, PublishedRouteStatus>();
    const unreadable = new Map<string, InvalidInputError>();
    let heartbeat: RouteStatusHeartbeat | undefined;
    for (const view of this.cache.nodes()) {
      const hb = this.#heartbeatOf(view, routeDomain);
      if (hb && (!heartbeat || Date.parse(hb.observed) > Date.parse(heartbeat.observed))) heartbeat = hb;
      const text = view.annotations[ROUTE_STATUS_ANNOTATION];
      const nl = this.#lease(view);
      if (text === undefined || nl.kind !== 'lease') continue;
      try {
        statuses.set(nl.lease.key, decodeRouteStatus(nl.lease.key, text));
      } catch (err) {
        unreadable.set(nl.lease.key, err as InvalidInputError);
      }
    }
    return { statuses, unreadable, heartbeat };
  }

  #heartbeatOf(view: NodeView, routeDomain = this.#o.routeDomain ?? ''): RouteStatusHeartbeat | undefined {
    const text = view.annotations[heartbeatAnnotation(routeDomain)];
    if (text === undefined) return undefined;
    try {
      return decodeHeartbeat(text);
    } catch {
      return undefined;
    }
  }

  async snapshotRouteStatus(signal: AbortSignal): Promise<RouteStatusSnapshot> {
    await this.#ready(signal);
    return { ...this.#readStatuses(), revision: this.cache.seq };
  }

  async watchRouteStatus(opts: RouteStatusWatchOptions): Promise<void> {
    await this.#ready(opts.signal);
    const deliver = (changes: readonly NodeChange[]): void => {
      for (const c of changes) this.#statusEvents(c, opts);
    };
    await this.#follow(opts.fromRevision, opts.signal, deliver, () => opts.onResync(this.#readStatuses()));
  }

  #statusEvents(c: NodeChange, opts: RouteStatusWatchOptions): void {
    const keyOf = (v: NodeView | undefined): string | undefined => {
      const nl = v ? this.#lease(v) : undefined;
      return nl?.kind === 'lease' ? nl.lease.key : undefined;
    };
    const statusOf = (v: NodeView | undefined, key: string | undefined): PublishedRouteStatus | undefined => {
      const text = v?.annotations[ROUTE_STATUS_ANNOTATION];
      if (text === undefined || key === undefined) return undefined;
      try {
        return decodeRouteStatus(key, text);
      } catch {
        return undefined;
      }
    };
    const after = c.type === 'upsert' ? c.after : undefined;
    const [kb, ka] = [keyOf(c.before), keyOf(after)];
    const hbKey = heartbeatAnnotation(this.#o.routeDomain ?? '');
    if (c.before?.annotations[hbKey] !== after?.annotations[hbKey] && after?.annotations[hbKey] !== undefined) {
      opts.onHeartbeat?.(after ? this.#heartbeatOf(after) : undefined);
    }
    if (kb !== undefined && kb !== ka) opts.onChange(kb, undefined);
    if (ka !== undefined && (kb !== ka || c.before?.annotations[ROUTE_STATUS_ANNOTATION] !== after?.annotations[ROUTE_STATUS_ANNOTATION])) {
      opts.onChange(ka, statusOf(after, ka));
    }
  }

  async putRouteStatus(key: string, status: PublishedRouteStatus, signal: AbortSignal): Promise<void> {
    await this.writeRouteStatuses(new Map([[key, status]]), [], signal);
  }

  /** One patch per node whose status really changed; up to 16 in flight. */
  async writeRouteStatuses(puts: ReadonlyMap<string, PublishedRouteStatus>, deletes: readonly string[], signal: AbortSignal): Promise<void> {
    await this.#ready(signal);
    const nodeOf = new Map<string, NodeView>();
    for (const view of this.cache.nodes()) {
      const nl = this.#lease(view);
      if (nl.kind === 'lease') nodeOf.set(nl.lease.key, view);
    }
    const work: { node: string; value: string | null }[] = [];
    for (const [key, status] of puts) {
      const view = nodeOf.get(key);
      if (!view) continue; // the node is gone: nothing to annotate
      const text = view.annotations[ROUTE_STATUS_ANNOTATION];
      if (text !== undefined && sameDecoded(key, text, status)) continue;
      work.push({ node: view.name, value: encodeRouteStatus(status) });
    }
    for (const key of deletes) {
      const view = nodeOf.get(key);
      if (view && view.annotations[ROUTE_STATUS_ANNOTATION] !== undefined) work.push({ node: view.name, value: null });
    }
    const errors: Error[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < work.length && !signal.aborted) {
        const w = work[next++]!;
        try {
          await this.#patchStatus(w.node, { metadata: { annotations: { [ROUTE_STATUS_ANNOTATION]: w.value } } }, signal);
        } catch (err) {
          errors.push(err as Error);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(STATUS_PATCH_CONCURRENCY, work.length) }, worker));
    if (errors.length > 0) throw new AggregateError(errors, `${errors.length} of ${work.length} route status patches failed: ${errorMessage(errors[0])}`);
  }

  async writeHeartbeat(heartbeat: RouteStatusHeartbeat, signal: AbortSignal): Promise<void> {
    const node = this.#o.heartbeatNode;
    if (!node) {
      if (!this.#heartbeatWarned) this.#o.log?.('warn', 'no NODE_NAME: the controller heartbeat is not published, so agents keep every peer on the kernel path', {});
      this.#heartbeatWarned = true;
      return;
    }
    await this.#patchStatus(node, { metadata: { annotations: { [heartbeatAnnotation(this.#o.routeDomain ?? '')]: encodeHeartbeat(heartbeat) } } }, signal);
  }

  /** A Kubernetes Event on a node (the cloud route controller's FailedToCreateRoute style). */
  async nodeEvent(node: string, e: { type: 'Normal' | 'Warning'; reason: string; message: string; component: string }, signal: AbortSignal): Promise<void> {
    const now = new Date(this.#clock.now()).toISOString().replace(/\.\d+Z$/, 'Z');
    await this.#o.api.request({
      method: 'POST',
      path: '/api/v1/namespaces/default/events',
      signal,
      body: {
        apiVersion: 'v1', kind: 'Event',
        metadata: { generateName: `${node}.`, namespace: 'default' },
        involvedObject: { kind: 'Node', name: node, uid: node, apiVersion: 'v1' },
        type: e.type, reason: e.reason, message: e.message, source: { component: e.component },
        firstTimestamp: now, lastTimestamp: now, count: 1, reportingComponent: e.component,
      },
    });
  }

  /** The node a lease key belongs to (events, messages). */
  nodeOfLease(key: string): string | undefined {
    for (const view of this.cache.nodes()) {
      const nl = this.#lease(view);
      if (nl.kind === 'lease' && nl.lease.key === key) return view.name;
    }
    return undefined;
  }
}

function sameDecoded(key: string, text: string, status: PublishedRouteStatus): boolean {
  try {
    return sameRouteStatus(decodeRouteStatus(key, text), status);
  } catch {
    return false;
  }
}
