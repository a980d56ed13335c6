// A watch as the apiserver streams it from etcd: HTTP 200, one JSON event per
// line, flushed each. RV unset/"0" first replays the state as ADDED; RV n is an
// etcd watch from n+1 with prev_kv; a compacted start is one ERROR event (410
// Expired) and the end of the stream. BOOKMARKs carry the last revision sent.
import type { ServerResponse } from 'node:http';
import type { IEvent, Watcher } from 'etcd3';
import { apiVersionOf, type ResourceDef } from './resources.ts';
import { decode, isCompacted, prefixEnd, withRV, type ObjectStore } from './store.ts';
import { ApiError, expired, internalError, statusBody, type JsonObject } from './status.ts';
import type { Selector } from './selectors.ts';

export interface WatchParams {
  readonly r: ResourceDef;
  readonly namespace?: string | undefined;
  readonly selector: Selector;
  /** As sent: undefined, "0" or a revision. */
  readonly resourceVersion?: string | undefined;
  readonly allowBookmarks: boolean;
  readonly sendInitialEvents: boolean;
  readonly timeoutMs: number;
  readonly bookmarkIntervalMs: number;
}

/** Open watch streams, so a fault can drop them all at once. */
export class WatchHub {
  private readonly open = new Set<() => void>();
  track(stop: () => void): () => void {
    this.open.add(stop);
    return () => this.open.delete(stop);
  }
  /** Ends every open watch stream cleanly (as an apiserver restart or a load balancer would). */
  dropAll(): number {
    const stops = [...this.open];
    for (const stop of stops) stop();
    return stops.length;
  }
  get size(): number {
    return this.open.size;
  }
}

type EventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

function send(res: ServerResponse, type: EventType, object: JsonObject): void {
  res.write(`${JSON.stringify({ type, object })}\n`);
}

/** Translates one etcd event, applying the selector the way the apiserver does (leaving the selection is a DELETED). */
function translate(e: IEvent, selector: Selector): { type: EventType; object: JsonObject } | undefined {
  const rev = Number(e.kv.mod_revision);
  const prev = e.prev_kv ? withRV(decode(e.prev_kv), rev) : undefined;
  const prevMatch = prev !== undefined && selector(prev);
  if (e.type === 'Delete') return prev && prevMatch ? { type: 'DELETED', object: prev } : undefined;
  const cur = decode(e.kv);
  const curMatch = selector(cur);
  if (curMatch) return { type: prevMatch ? 'MODIFIED' : 'ADDED', object: cur };
  return prevMatch && prev ? { type: 'DELETED', object: prev } : undefined;
}

function startRevisionOf(raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '' || raw === '0') return undefined;
  if (!/^\d+$/.test(raw)) throw new ApiError({ code: 400, reason: 'BadRequest', message: `invalid resource version: ${raw}` });
  return Number(raw);
}

async function compactedSince(store: ObjectStore, base: string, rev: number): Promise<boolean> {
  if (rev > (await store.currentRevision())) return false;
  try {
    await store.client.kv.range({ key: Buffer.from(base), range_end: prefixEnd(base), revision: rev, count_only: true });
    return false;
  } catch (err) {
    if (isCompacted(err)) return true;
    throw err;
  }
}

export async function serveWatch(ctx: { store: ObjectStore; hub: WatchHub }, res: ServerResponse, p: WatchParams): Promise<void> {
  const { store } = ctx;
  const base = store.collectionKey(p.r, p.namespace);
  let from = startRevisionOf(p.resourceVersion);
  const initial = from === undefined || p.sendInitialEvents ? await store.list(p.r, p.namespace, { filter: p.selector }) : undefined;
  if (initial) from = initial.revision;
  const start = from ?? 0;
  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
  res.flushHeaders();
  if (!initial && (await compactedSince(store, base, start + 1))) {
    send(res, 'ERROR', statusBody(expired('The resourceVersion for the provided watch is too old.').fields));
    res.end();
    return;
  }
  for (const obj of initial?.items ?? []) send(res, 'ADDED', obj);
  const bookmark = (rv: number, extra: JsonObject = {}): void =>
    send(res, 'BOOKMARK', { kind: p.r.kind, apiVersion: apiVersionOf(p.r), metadata: { resourceVersion: String(rv), ...extra } });
  if (initial && p.sendInitialEvents && p.allowBookmarks) bookmark(start, { annotations: { 'k8s.io/initial-events-end': 'true' } });
  await streamChanges(ctx, res, p, { base, start, bookmark });
}

async function streamChanges(
  ctx: { store: ObjectStore; hub: WatchHub }, res: ServerResponse, p: WatchParams,
  s: { base: string; start: number; bookmark: (rv: number) => void },
): Promise<void> {
  // The client may already be gone (it hung up during the initial list): no etcd watch for nobody.
  if (res.destroyed || res.writableEnded) return;
  let lastRV = s.start;
  let watcher: Watcher | undefined;
  let ended = false;
  const timers: NodeJS.Timeout[] = [];
  const stop = (): void => {
    if (ended) return;
    ended = true;
    untrack();
    for (const t of timers) clearTimeout(t);
    void watcher?.cancel().catch(() => undefined);
    res.end();
  };
  const untrack = ctx.hub.track(stop);
  res.once('close', stop);
  timers.push(setTimeout(stop, p.timeoutMs));
  if (p.allowBookmarks) timers.push(setInterval(() => s.bookmark(lastRV), p.bookmarkIntervalMs));
  try {
    watcher = await ctx.store.client.watch().prefix(s.base).startRevision(String(s.start + 1)).withPreviousKV().create();
  } catch (err) {
    fail(res, err);
    stop();
    return;
  }
  if (ended) {
    void watcher.cancel().catch(() => undefined);
    return;
  }
  watcher.on('data', (w) => {
    for (const e of w.events) {
      lastRV = Math.max(lastRV, Number(e.kv.mod_revision));
      const event = translate(e, p.selector);
      if (event && !ended) send(res, event.type, event.object);
    }
  });
  watcher.on('error', (err) => {
    fail(res, err);
    stop();
  });
}

function fail(res: ServerResponse, err: unknown): void {
  if (res.writableEnded) return;
  const status = isCompacted(err) || /compact/i.test(String(err))
    ? expired('The resourceVersion for the provided watch is too old.')
    : internalError(err instanceof Error ? err.message : String(err));
  send(res, 'ERROR', statusBody(status.fields));
}
