// Watching a prefix in etcd the way flannel does: from revision + 1; after a
// disconnect etcd3 resumes from the last revision it saw (backoff 100 ms → 5 s);
// when the revision was compacted away, re-list and hand the whole set over,
// after a backoff, so a compaction never becomes a hot loop (flannel #2470).
import type { Etcd3, IKeyValue } from 'etcd3';
import { type Clock, backoffDelay } from '../util/time.ts';

export interface RawEvent {
  readonly type: 'put' | 'delete';
  readonly kv: IKeyValue;
  /** The key as it was before this event (etcd's prev_kv), when it existed. */
  readonly prevKv?: IKeyValue | undefined;
}

export interface WatchPrefixOptions<T extends { readonly revision: number }> {
  readonly client: Etcd3;
  readonly prefix: string;
  readonly fromRevision: number;
  readonly signal: AbortSignal;
  readonly clock: Clock;
  readonly relist: (signal: AbortSignal) => Promise<T>;
  readonly onEvents: (events: readonly RawEvent[], resync?: T) => void;
  readonly onConnection?: ((connected: boolean, err?: Error) => void) | undefined;
}

export async function watchPrefix<T extends { readonly revision: number }>(opts: WatchPrefixOptions<T>): Promise<void> {
  let revision = opts.fromRevision;
  let failures = 0;
  while (!opts.signal.aborted) {
    const outcome = await watchUntilBroken(opts, revision, (rev) => { revision = rev; failures = 0; });
    if (outcome === 'aborted' || opts.signal.aborted) return;
    // The watch cannot resume (compacted, or cancelled by the server): re-list.
    await opts.clock.sleep(backoffDelay(failures++, 100, 5000), opts.signal).catch(() => {});
    if (opts.signal.aborted) return;
    try {
      const snapshot = await opts.relist(opts.signal);
      revision = snapshot.revision + 1;
      opts.onEvents([], snapshot);
    } catch (err) {
      opts.onConnection?.(false, err instanceof Error ? err : new Error(String(err)));
    }
  }
}

async function watchUntilBroken<T extends { readonly revision: number }>(
  opts: WatchPrefixOptions<T>,
  fromRevision: number,
  advance: (revision: number) => void,
): Promise<'aborted' | 'broken'> {
  const watcher = opts.client.watch().prefix(opts.prefix).startRevision(String(fromRevision)).withPreviousKV().watcher();
  try {
    return await new Promise<'aborted' | 'broken'>((resolve) => {
      watcher.on('data', (res) => {
        const events = res.events.map((ev): RawEvent => ({ type: ev.type === 'Delete' ? 'delete' : 'put', kv: ev.kv, prevKv: ev.prev_kv ?? undefined }));
        if (events.length > 0) opts.onEvents(events);
        advance(Number(res.header.revision) + 1);
      });
      watcher.on('connected', () => opts.onConnection?.(true));
      watcher.on('disconnected', (err: Error) => opts.onConnection?.(false, err));
      watcher.on('error', () => resolve('broken'));
      watcher.on('end', () => resolve('broken'));
      if (opts.signal.aborted) resolve('aborted');
      opts.signal.addEventListener('abort', () => resolve('aborted'), { once: true });
    });
  } finally {
    // etcd3's cancel() waits for an 'end' that a server-cancelled watcher never
    // sends (compaction), so it is bounded here rather than awaited forever.
    await Promise.race([watcher.cancel().catch(() => {}), opts.clock.sleep(1000).catch(() => {})]);
  }
}
