// The audit is read-only by construction: it is typed against RouteTableReader,
// and at run time it holds this view, which has the reader's members and nothing
// else, so no capability guard (canReplace, canBatch, canPrepareHosts) can find a
// write method on it either.
import type { RouteTableReader } from '../../providers/route-table.ts';

export function readOnly(provider: RouteTableReader): RouteTableReader {
  return Object.freeze({
    provider: provider.provider,
    marksRoutes: provider.marksRoutes,
    tables: (signal: AbortSignal) => provider.tables(signal),
    listRoutes: (table: string, signal: AbortSignal) => provider.listRoutes(table, signal),
    capacity: (table: string, signal: AbortSignal) => provider.capacity(table, signal),
    resolveHosts: (hosts: Parameters<RouteTableReader['resolveHosts']>[0], signal: AbortSignal) => provider.resolveHosts(hosts, signal),
    calls: () => provider.calls(),
  });
}
