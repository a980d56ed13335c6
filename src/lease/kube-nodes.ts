// One list + watch of the cluster's Nodes, shared by everything a process reads from
// them (its peers' leases, the controller's route status, the heartbeat). Nodes are
// cut down to their podCIDRs and the annotations tartan reads as they arrive; whole
// Node objects are never kept (kubernetes.md §1, the memory target).
//
// The watch resumes by resourceVersion, asks for bookmarks and for the server to end
// it after a random 5–10 min (client-go's reflector); silence longer than that plus a
// margin ends it from our side. A 410 Gone (compaction) re-lists, and the re-list is
// diffed against what we have: a node is deleted only when the new listing lacks it.
// Any other failure backs off (1 s doubling to 30 s, Retry-After honoured) and
// resumes. The watch never stops for good while the signal lives: no error leaves the
// process silently blind; `connected` says whether the view is current.
//
// Changes carry a local sequence number and the last changes are kept, so a reader
// that listed at sequence n and subscribes later gets what happened after n (the
// etcd store's list-then-watch-from-revision, without a second apiserver list).
import { type Clock, backoffDelay, realClock } from '../util/time.ts';
import { errorMessage } from '../errors.ts';
import { type KubeApi, KubeApiError } from './kube-client.ts';
import { type AnnotationKeys, type NodeView, nodeView } from './kube-node.ts';

export type NodeChange =
  | { readonly type: 'upsert'; readonly seq: number; readonly before: NodeView | undefined; readonly after: NodeView }
  | { readonly type: 'delete'; readonly seq: number; readonly before: NodeView };

export interface NodeCacheOptions {
  readonly api: KubeApi;
  readonly keys: AnnotationKeys;
  readonly clock?: Clock | undefined;
  readonly pageSize?: number | undefined;
  /** How many changes are kept for late subscribers (beyond: they get a resync). */
  readonly logSize?: number | undefined;
  /** Server-side watch timeout, seconds (default: random in [300, 600), as client-go). */
  readonly watchTimeoutSeconds?: (() => number) | undefined;
  readonly onLog?: ((level: 'info' | 'warn', msg: string, fields: Record<string, unknown>) => void) | undefined;
}

export interface CacheStats {
  lists: number;
  watches: number;
  relistsAfterGone: number;
  failures: number;
}

type Listener = (changes: readonly NodeChange[]) => void;

export class NodeCache {
  readonly stats: CacheStats = { lists: 0, watches: 0, relistsAfterGone: 0, failures: 0 };
  readonly #o: NodeCacheOptions;
  readonly #clock: Clock;
  readonly #nodes = new Map<string, NodeView>();
  readonly #log: NodeChange[] = [];
  readonly #listeners = new Set<Listener>();
  readonly #connectionListeners = new Set<(connected: boolean, err?: Error) => void>();
  #seq = 0;
  #rv = '';
  #connected = false;
  #synced: Promise<void>;
  #resolveSynced!: () => void;
  #rejectSynced!: (err: Error) => void;
  #running = false;

  constructor(o: NodeCacheOptions) {
    this.#o = o;
    this.#clock = o.clock ?? realClock;
    this.#synced = new Promise<void>((resolve, reject) => {
      this.#resolveSynced = resolve;
      this.#rejectSynced = reject;
    });
    this.#synced.catch(() => {});
  }

  /** Lists and watches until `signal` aborts. Started once; later calls share the first run. */
  start(signal: AbortSignal): void {
    if (this.#running) return;
    this.#running = true;
    void this.#run(signal).catch((err: unknown) => this.#rejectSynced(err as Error));
  }

  /** Resolves once the first listing is in (rejects if the run ends before). */
  async synced(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    await Promise.race([this.#synced, new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }))]);
  }

  get seq(): number {
    return this.#seq;
  }
  get connected(): boolean {
    return this.#connected;
  }
  get size(): number {
    return this.#nodes.size;
  }
  get(name: string): NodeView | undefined {
    return this.#nodes.get(name);
  }
  nodes(): IterableIterator<NodeView> {
    return this.#nodes.values();
  }

  /** Changes after `fromSeq` (exclusive), or undefined when they are no longer kept. */
  since(fromSeq: number): NodeChange[] | undefined {
    if (fromSeq >= this.#seq) return [];
    const first = this.#log[0];
    if (!first || first.seq > fromSeq + 1) return undefined;
    return this.#log.filter((c) => c.seq > fromSeq);
  }

  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  onConnection(listener: (connected: boolean, err?: Error) => void): () => void {
    this.#connectionListeners.add(listener);
    return () => this.#connectionListeners.delete(listener);
  }

  async #run(signal: AbortSignal): Promise<void> {
    let failures = 0;
    let needList = true;
    while (!signal.aborted) {
      try {
        if (needList) {
          await this.#list(signal);
          needList = false;
          this.#setConnected(true);
          this.#resolveSynced();
        }
        await this.#watch(signal);
        failures = 0;
      } catch (err) {
        if (signal.aborted) return;
        this.stats.failures++;
        if (err instanceof KubeApiError && err.status === 410) {
          // Compacted: our resourceVersion is gone. Re-list at once (diffed, no spurious deletes).
          this.stats.relistsAfterGone++;
          this.#o.onLog?.('info', 'node watch expired (410 Gone): re-listing', { resourceVersion: this.#rv });
          needList = true;
          continue;
        }
        this.#setConnected(false, err as Error);
        const retryMs = err instanceof KubeApiError && err.retryAfterSeconds !== undefined ? err.retryAfterSeconds * 1000 : backoffDelay(failures++, 1000, 30_000);
        this.#o.onLog?.('warn', 'node list/watch failed; the view stays as it is, retrying', { err: errorMessage(err), retryMs });
        await this.#clock.sleep(retryMs, signal).catch(() => {});
        // A list failure keeps needList; a broken watch resumes from the last resourceVersion.
      }
    }
  }

  async #list(signal: AbortSignal): Promise<void> {
    this.stats.lists++;
    const fresh = new Map<string, NodeView>();
    let cont = '';
    let rv = '';
    do {
      // 100 Nodes a page: a page of 8 KB Nodes is parsed whole before it is cut down, and the
      // heap's peak is what the agent's RSS keeps (5,000 Nodes: 138 MB at 100, 167 MB at 500).
      const query = new URLSearchParams({ limit: String(this.#o.pageSize ?? 100) });
      if (cont) query.set('continue', cont);
      const page = await this.#o.api.request<{ metadata?: { resourceVersion?: string; continue?: string }; items?: unknown[] }>({
        method: 'GET', path: `/api/v1/nodes?${query.toString()}`, signal,
      });
      for (const item of page.items ?? []) {
        const view = this.#cut(item);
        if (view) fresh.set(view.name, view);
      }
      cont = page.metadata?.continue ?? '';
      rv = page.metadata?.resourceVersion ?? rv;
    } while (cont !== '');
    // Diff against what we had: a re-list after 410 deletes only what is really gone.
    const changes: NodeChange[] = [];
    for (const [name, before] of this.#nodes) {
      if (!fresh.has(name)) changes.push({ type: 'delete', seq: ++this.#seq, before });
    }
    for (const [name, after] of fresh) {
      const before = this.#nodes.get(name);
      if (!before || !sameView(before, after)) changes.push({ type: 'upsert', seq: ++this.#seq, before, after });
    }
    this.#nodes.clear();
    for (const [name, view] of fresh) this.#nodes.set(name, view);
    this.#rv = rv;
    this.#emit(changes);
  }

  async #watch(signal: AbortSignal): Promise<void> {
    this.stats.watches++;
    const timeoutSeconds = this.#o.watchTimeoutSeconds?.() ?? 300 + Math.floor(Math.random() * 300);
    const query = new URLSearchParams({ watch: 'true', resourceVersion: this.#rv, allowWatchBookmarks: 'true', timeoutSeconds: String(timeoutSeconds) });
    let failure: KubeApiError | undefined;
    await this.#o.api.stream({
      path: `/api/v1/nodes?${query.toString()}`,
      signal,
      // Bookmarks come at least every minute from a real apiserver; past the timeout plus a minute, the stream is dead.
      idleTimeoutMs: (timeoutSeconds + 60) * 1000,
      onLine: (line) => {
        if (failure) return;
        let ev: { type?: string; object?: { metadata?: { resourceVersion?: string }; code?: number; reason?: string; message?: string } };
        try {
          ev = JSON.parse(line) as typeof ev;
        } catch {
          return;
        }
        if (!this.#connected) this.#setConnected(true);
        const rv = ev.object?.metadata?.resourceVersion;
        if (ev.type === 'ERROR') {
          const o = ev.object ?? {};
          failure = new KubeApiError('watch /api/v1/nodes', o.code ?? 500, o.reason ?? 'Error', o.message ?? 'watch error');
          return;
        }
        if (ev.type === 'BOOKMARK') {
          if (rv) this.#rv = rv;
          return;
        }
        const view = this.#cut(ev.object);
        if (rv) this.#rv = rv;
        if (!view) return;
        const before = this.#nodes.get(view.name);
        if (ev.type === 'DELETED') {
          if (!before) return;
          this.#nodes.delete(view.name);
          this.#emit([{ type: 'delete', seq: ++this.#seq, before }]);
          return;
        }
        if (before && sameView(before, view)) return; // kubelet status churn: nothing tartan reads changed
        this.#nodes.set(view.name, view);
        this.#emit([{ type: 'upsert', seq: ++this.#seq, before, after: view }]);
      },
    });
    if (failure) throw failure;
  }

  #cut(obj: unknown): NodeView | undefined {
    try {
      return nodeView(obj, this.#o.keys);
    } catch (err) {
      this.#o.onLog?.('warn', 'ignoring a node object without a name', { err: errorMessage(err) });
      return undefined;
    }
  }

  #emit(changes: NodeChange[]): void {
    if (changes.length === 0) return;
    this.#log.push(...changes);
    const max = this.#o.logSize ?? 20_000;
    if (this.#log.length > max) this.#log.splice(0, this.#log.length - max);
    for (const l of this.#listeners) l(changes);
  }

  #setConnected(connected: boolean, err?: Error): void {
    if (this.#connected === connected) return;
    this.#connected = connected;
    for (const l of this.#connectionListeners) l(connected, err);
  }
}

function sameView(a: NodeView, b: NodeView): boolean {
  if (a.podCIDR !== b.podCIDR || (a.podCIDRs ?? []).join(',') !== (b.podCIDRs ?? []).join(',')) return false;
  const ka = Object.keys(a.annotations);
  return ka.length === Object.keys(b.annotations).length && ka.every((k) => a.annotations[k] === b.annotations[k]);
}
