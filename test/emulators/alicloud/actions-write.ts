// CreateRouteEntry(ies), DeleteRouteEntry(ies), ModifyRouteEntry. Every write
// first checks that nothing in its conflict scope (the VPC, per the reference)
// is between states: the API answers IncorrectRouteEntryStatus then, which is
// why a caller must write serially and wait for Available.
import { apiErrors, batchFailures, type BatchFailure } from './errors.ts';
import type { TableRecord, World } from './model.ts';
import { type ActionContext, label, optional, repeated, required } from './params.ts';
import { createEntry, deleteEntry, findRef, isApiError, modifyEntry } from './routes.ts';

/** ClientToken replays are remembered this long (the reference gives no number; a knob would do). */
const CLIENT_TOKEN_TTL_MS = 10 * 60_000;

export function guardWrites(world: World, tables: Iterable<TableRecord | undefined>): void {
  for (const t of tables) if (t && world.busy(t)) throw apiErrors.vpcNotStable(world.settings.busyCode);
}

export function createRouteEntry(ctx: ActionContext): Record<string, unknown> {
  const p = ctx.params;
  required(p, 'RegionId');
  const tableId = required(p, 'RouteTableId');
  const destination = required(p, 'DestinationCidrBlock');
  if (optional(p, 'NextHopList.1.NextHopId')) throw apiErrors.invalidParameter('NextHopList', 'ECMP routes are not emulated');
  const token = optional(p, 'ClientToken');
  const replay = token === undefined ? undefined : ctx.clientTokens.get(token);
  if (replay && ctx.now - replay.at < CLIENT_TOKEN_TTL_MS) return { RequestId: ctx.requestId, RouteEntryId: replay.routeEntryId };
  guardWrites(ctx.world, [ctx.world.tables.get(tableId)]);
  const entry = createEntry(ctx.world, {
    tableId,
    destination,
    nextHopType: optional(p, 'NextHopType') ?? 'Instance',
    nextHopId: optional(p, 'NextHopId') ?? '',
    name: label(p, 'RouteEntryName', 128) ?? '',
    description: label(p, 'Description', 256) ?? '',
  }, ctx.now, false);
  if (token !== undefined) ctx.clientTokens.set(token, { routeEntryId: entry.id, at: ctx.now });
  return { RequestId: ctx.requestId, RouteEntryId: entry.id };
}

export function createRouteEntries(ctx: ActionContext): Record<string, unknown> {
  const items = batchItems(ctx, 'CreateRouteEntries');
  const ids: string[] = [];
  const failed: Record<string, unknown>[] = [];
  for (const item of items) {
    try {
      const entry = createEntry(ctx.world, {
        tableId: item.RouteTableId!,
        destination: item.DstCidrBlock ?? '',
        nextHopType: item.NextHopType ?? 'Instance',
        nextHopId: item.NextHop ?? '',
        name: item.Name ?? '',
        description: item.Description ?? '',
      }, ctx.now, true);
      ids.push(entry.id);
    } catch (err) {
      if (!isApiError(err)) throw err;
      const f: BatchFailure = err.code === 'InvalidCIDRBlock.Duplicate'
        ? batchFailures.duplicate(item.DstCidrBlock ?? '')
        : batchFailures.fromApiError(err);
      failed.push({ DstCidrBlock: item.DstCidrBlock ?? '', NextHop: item.NextHop ?? '', FailedCode: f.code, FailedMessage: f.message });
    }
  }
  return { SuccessCount: ids.length, FailedCount: failed.length, RequestId: ctx.requestId, FailedRouteEntries: failed, RouteEntryIds: ids };
}

export function deleteRouteEntry(ctx: ActionContext): Record<string, unknown> {
  const p = ctx.params;
  const ref = {
    routeEntryId: optional(p, 'RouteEntryId'),
    tableId: optional(p, 'RouteTableId'),
    destination: optional(p, 'DestinationCidrBlock'),
    nextHopId: optional(p, 'NextHopId'),
  };
  if (!ref.routeEntryId && !ref.tableId) throw apiErrors.missingParameter('RouteEntryId');
  const table = ref.tableId ? ctx.world.tables.get(ref.tableId) : tableOfEntry(ctx.world, ref.routeEntryId);
  if (ref.tableId && !table) throw apiErrors.routeTableNotFound();
  guardWrites(ctx.world, [table]);
  deleteEntry(ctx.world, findRef(ctx.world, ref, 'DestinationCidrBlock'), ctx.now);
  return { RequestId: ctx.requestId };
}

export function deleteRouteEntries(ctx: ActionContext): Record<string, unknown> {
  const items = batchItems(ctx, 'DeleteRouteEntries');
  let done = 0;
  const failed: Record<string, unknown>[] = [];
  for (const item of items) {
    try {
      const ref = { routeEntryId: item.RouteEntryId, tableId: item.RouteTableId, destination: item.DstCidrBlock, nextHopId: item.NextHop };
      if (!ref.routeEntryId && (!ref.destination || !ref.nextHopId)) throw apiErrors.missingParameter('RouteEntryId');
      deleteEntry(ctx.world, findRef(ctx.world, ref, 'DstCidrBlock'), ctx.now);
      done++;
    } catch (err) {
      if (!isApiError(err)) throw err;
      const f = err.code === 'InvalidRouteEntry.NotFound' || err.code === 'InvalidRouteTableId.NotFound'
        ? batchFailures.notExist()
        : err.code === 'IncorrectRouteEntryStatus' ? batchFailures.status() : batchFailures.fromApiError(err);
      const row: Record<string, unknown> = {};
      if (item.RouteEntryId !== undefined) row.RouteEntryId = item.RouteEntryId;
      Object.assign(row, { DstCidrBlock: item.DstCidrBlock ?? '', NextHop: item.NextHop ?? '', FailedCode: f.code, FailedMessage: f.message });
      failed.push(row);
    }
  }
  return { RequestId: ctx.requestId, SuccessCount: done, FailedCount: failed.length, FailedRouteEntries: failed };
}

export function modifyRouteEntry(ctx: ActionContext): Record<string, unknown> {
  const p = ctx.params;
  const ref = { routeEntryId: optional(p, 'RouteEntryId'), tableId: optional(p, 'RouteTableId'), destination: optional(p, 'DestinationCidrBlock') };
  if (!ref.routeEntryId && !ref.tableId) throw apiErrors.missingParameter('RouteEntryId');
  const entry = findRef(ctx.world, ref, 'DestinationCidrBlock');
  guardWrites(ctx.world, [ctx.world.tables.get(entry.tableId)]);
  modifyEntry(ctx.world, entry, {
    name: label(p, 'RouteEntryName', 128),
    description: label(p, 'Description', 256),
    newNextHopId: optional(p, 'NewNextHopId'),
    newNextHopType: optional(p, 'NewNextHopType'),
  }, ctx.now);
  return { RequestId: ctx.requestId };
}

/** The RouteEntries.N list of a batch call, checked for size and table ids; then the scope guard. */
function batchItems(ctx: ActionContext, action: string): Record<string, string>[] {
  required(ctx.params, 'RegionId');
  const items = repeated(ctx.params, 'RouteEntries');
  if (items.length === 0) throw apiErrors.missingParameter('RouteEntries');
  if (items.length > ctx.world.settings.maxBatch) {
    throw apiErrors.invalidParameter('RouteEntries', `${action} takes at most ${ctx.world.settings.maxBatch} entries`);
  }
  if (items.some((i) => !i.RouteTableId)) throw apiErrors.missingRouteTableId();
  guardWrites(ctx.world, new Set(items.map((i) => ctx.world.tables.get(i.RouteTableId!))));
  return items;
}

function tableOfEntry(world: World, id: string | undefined): TableRecord | undefined {
  const e = id === undefined ? undefined : world.findEntry(id);
  return e ? world.tables.get(e.tableId) : undefined;
}
