// Kubernetes mode: a route that fails shows on its Node as a Warning Event, the way
// the cloud route controller reports FailedToCreateRoute (kubernetes.md §4), so
// `kubectl describe node` tells the operator what `tartan audit` would. Wraps the
// route status store: an Event when a node's status turns bad or changes its reason,
// never again for the same status. An Event that cannot be posted is logged; the
// status write it rides on is not failed for it.
import { errorMessage } from '../errors.ts';
import type { Logger } from '../observe/log.ts';
import type { PublishedRouteStatus, RouteState, RouteStatusHeartbeat, RouteStatusRead } from '../lease/route-status.ts';
import type { RouteStatusStore } from '../lease/store.ts';

export interface NodeEventSink {
  nodeOfLease(key: string): string | undefined;
  nodeEvent(node: string, e: { type: 'Normal' | 'Warning'; reason: string; message: string; component: string }, signal: AbortSignal): Promise<void>;
}

/** The Event reason for each state that needs a person; the others post nothing. */
export const EVENT_REASONS: Readonly<Partial<Record<RouteState, string>>> = {
  error: 'FailedToCreateRoute',
  overflow: 'RouteTableFull',
  conflict: 'RouteConflict',
};

export const EVENT_COMPONENT = 'tartan-controller';

/** Which puts deserve an Event, given what was last posted per key (pure). */
export function eventsFor(puts: ReadonlyMap<string, PublishedRouteStatus>, posted: ReadonlyMap<string, string>): { key: string; reason: string; message: string; mark: string }[] {
  const out: { key: string; reason: string; message: string; mark: string }[] = [];
  for (const [key, status] of puts) {
    const reason = EVENT_REASONS[status.state];
    if (!reason) continue;
    const mark = `${status.state}\u0000${status.reason ?? ''}`;
    if (posted.get(key) === mark) continue;
    const tables = Object.entries(status.tables).filter(([, s]) => s === status.state).map(([t]) => t).join(', ');
    out.push({ key, reason, mark, message: `route for ${key}${tables ? ` in ${tables}` : ''}: ${status.state}${status.reason ? ` (${status.reason})` : ''}` });
  }
  return out;
}

export class NodeEventingStatus implements RouteStatusStore {
  readonly #inner: RouteStatusStore & NodeEventSink;
  readonly #log: Logger;
  readonly #posted = new Map<string, string>();

  constructor(inner: RouteStatusStore & NodeEventSink, log: Logger) {
    this.#inner = inner;
    this.#log = log;
  }

  listRouteStatus(signal: AbortSignal): Promise<RouteStatusRead> {
    return this.#inner.listRouteStatus(signal);
  }
  putRouteStatus(key: string, status: PublishedRouteStatus, signal: AbortSignal): Promise<void> {
    return this.writeRouteStatuses(new Map([[key, status]]), [], signal);
  }
  writeHeartbeat(heartbeat: RouteStatusHeartbeat, signal: AbortSignal): Promise<void> {
    return this.#inner.writeHeartbeat(heartbeat, signal);
  }

  async writeRouteStatuses(puts: ReadonlyMap<string, PublishedRouteStatus>, deletes: readonly string[], signal: AbortSignal): Promise<void> {
    try {
      await this.#inner.writeRouteStatuses(puts, deletes, signal);
    } finally {
      for (const [key, status] of puts) if (!EVENT_REASONS[status.state]) this.#posted.delete(key);
      for (const key of deletes) this.#posted.delete(key);
      await Promise.all(eventsFor(puts, this.#posted).map(async (e) => {
        const node = this.#inner.nodeOfLease(e.key);
        if (!node) return;
        try {
          await this.#inner.nodeEvent(node, { type: 'Warning', reason: e.reason, message: e.message, component: EVENT_COMPONENT }, signal);
          this.#posted.set(e.key, e.mark);
        } catch (err) {
          this.#log.warn({ node, reason: e.reason, err: errorMessage(err) }, 'could not post a node Event');
        }
      }));
    }
  }
}
