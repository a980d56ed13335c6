// CreateRouteEntries / DeleteRouteEntries: up to maxBatch entries per call, each
// answered on its own (a batch succeeds in part). A chunk is written, then
// waited on until every entry of it has settled, before the next chunk: the
// API refuses writes while any entry of the VPC is between states.
import { ConflictError, NotOwnedError, RetryableError } from '../../src/errors.ts';
import { formatCidr, parseCidr } from '../../src/net/cidr.ts';
import { type BatchResult, type DesiredRoute, type RouteEntry, sameNextHop } from '../route-table.ts';
import { AlicloudApiError, type ApiRouteEntry, type BatchFailure } from './api.ts';
import type { ProviderCore } from './core.ts';
import { BUSY_CODES, DUPLICATE_CODES, NOT_FOUND_ENTRY_CODES } from './ownership.ts';

/** Rounds of re-sending entries the API answered with a status (busy) failure. */
const BUSY_ROUNDS = 5;

type Failed = { destination: string; error: Error }[];

export async function createRoutes(c: ProviderCore, table: string, routes: readonly DesiredRoute[], signal: AbortSignal): Promise<BatchResult> {
  const done: string[] = [];
  const failed: Failed = [];
  const wanted = new Map<string, DesiredRoute>();
  for (const r of routes) {
    try {
      const dest = c.checkDesired(r);
      const twin = wanted.get(dest);
      if (twin && !sameNextHop(twin.nextHop, r.nextHop)) throw new ConflictError(`route ${dest} is asked for twice, with different next hops`);
      wanted.set(dest, r);
    } catch (err) {
      failed.push({ destination: r.destination, error: err as Error });
    }
  }
  if (wanted.size === 0) return { done, failed };
  await c.write(table, async () => {
    const existing = byDestination(await c.listEntries(table, signal));
    const toCreate: [string, DesiredRoute][] = [];
    const adopted: string[] = [];
    for (const [dest, r] of wanted) {
      const e = existing.get(dest);
      if (!e) toCreate.push([dest, r]);
      else if (isOursWith(c, e, r)) adopted.push(dest);
      else failed.push({ destination: dest, error: conflict(table, dest, e) });
    }
    for (const chunk of chunks(toCreate, c.o.maxBatch)) await createChunk(c, table, chunk, signal, { done, failed, adopted });
    // Entries that were ours already, or reported as duplicates: settled and ours with this next hop?
    if (adopted.length > 0) await settleCreated(c, table, new Map(adopted.map((d) => [d, wanted.get(d)!])), signal, done, failed);
  });
  return { done, failed };
}

async function createChunk(
  c: ProviderCore, table: string, chunk: [string, DesiredRoute][], signal: AbortSignal,
  out: { done: string[]; failed: Failed; adopted: string[] },
): Promise<void> {
  let pending = chunk;
  for (let round = 0; pending.length > 0; round++) {
    if (round >= BUSY_ROUNDS) {
      for (const [dest] of pending) out.failed.push({ destination: dest, error: new RetryableError(`route ${dest} in ${table}: the VPC stayed busy`) });
      return;
    }
    let answer: { failed: BatchFailure[] };
    try {
      answer = await c.caller.call('CreateRouteEntries', signal, () => c.api.createRouteEntries(pending.map(([dest, r]) => ({
        tableId: table, destination: dest, instanceId: r.nextHop.id, ...c.marker,
      })), signal));
    } catch (err) {
      for (const [dest] of pending) out.failed.push({ destination: dest, error: c.mapError(err, table, dest) as Error });
      return;
    }
    const failures = new Map(answer.failed.map((f) => [canonical(f.destination), f]));
    const created = new Map<string, DesiredRoute>();
    const again: [string, DesiredRoute][] = [];
    for (const [dest, r] of pending) {
      const f = failures.get(dest);
      if (!f) created.set(dest, r);
      else if (DUPLICATE_CODES.has(f.code)) out.adopted.push(dest);
      else if (BUSY_CODES.has(f.code)) again.push([dest, r]);
      else out.failed.push({ destination: dest, error: failureError(c, table, dest, f) });
    }
    await settleCreated(c, table, created, signal, out.done, out.failed);
    pending = again;
  }
}

/** Waits until every destination is Available (or gone), then sorts them into done and failed. */
async function settleCreated(
  c: ProviderCore, table: string, routes: ReadonlyMap<string, DesiredRoute>, signal: AbortSignal, done: string[], failed: Failed,
): Promise<void> {
  if (routes.size === 0) return;
  const seen = byDestination(await c.settleTable('create', table, signal, (entries) => {
    const now = byDestination(entries);
    return [...routes.keys()].every((d) => now.get(d)?.status !== 'Pending' && now.get(d)?.status !== 'Modifying');
  }));
  for (const [dest, r] of routes) {
    const e = seen.get(dest);
    if (e && isOursWith(c, e, r)) done.push(dest);
    else failed.push({ destination: dest, error: e ? conflict(table, dest, e) : new ConflictError(`route ${dest} in ${table} vanished while it was being created`) });
  }
}

export async function deleteRoutes(c: ProviderCore, table: string, routes: readonly RouteEntry[], signal: AbortSignal): Promise<BatchResult> {
  const done: string[] = [];
  const failed: Failed = [];
  const asked = routes.filter((r) => {
    if (!r.owned) failed.push({ destination: r.destination, error: new NotOwnedError(`route ${r.destination} in ${table} is not tartan's`) });
    return r.owned;
  });
  if (asked.length === 0) return { done, failed };
  await c.write(table, async () => {
    const existing = byDestination(await c.listEntries(table, signal));
    const toDelete: ApiRouteEntry[] = [];
    let othersDeleting = false;
    for (const r of asked) {
      const dest = canonical(r.destination);
      const e = existing.get(dest);
      othersDeleting ||= e?.status === 'Deleting';
      if (!e || e.status === 'Deleting') done.push(dest);
      else if (c.classify(e).kind !== 'owned') failed.push({ destination: dest, error: new NotOwnedError(`route ${dest} in ${table} is not tartan's (${e.id})`) });
      else if (r.id !== undefined && r.id !== e.id) failed.push({ destination: dest, error: new ConflictError(`route ${dest} in ${table} was replaced since it was listed`) });
      else toDelete.push(e);
    }
    for (const chunk of chunks(toDelete, c.o.maxBatch)) await deleteChunk(c, table, chunk, signal, done, failed);
    // Entries already Deleting when we looked: wait for them too, so the next writer finds the VPC settled.
    if (othersDeleting) await c.settleTable('delete', table, signal, (entries) => entries.every((e) => e.status !== 'Deleting'));
  });
  return { done, failed };
}

async function deleteChunk(c: ProviderCore, table: string, chunk: ApiRouteEntry[], signal: AbortSignal, done: string[], failed: Failed): Promise<void> {
  let pending = chunk;
  for (let round = 0; pending.length > 0; round++) {
    if (round >= BUSY_ROUNDS) {
      for (const e of pending) failed.push({ destination: canonical(e.destination), error: new RetryableError(`route ${e.destination} in ${table}: the VPC stayed busy`) });
      return;
    }
    let answer: { failed: BatchFailure[] };
    try {
      answer = await c.caller.call('DeleteRouteEntries', signal, () =>
        c.api.deleteRouteEntries(pending.map((e) => ({ tableId: table, routeEntryId: e.id })), signal));
    } catch (err) {
      for (const e of pending) failed.push({ destination: canonical(e.destination), error: c.mapError(err, table, e.destination) as Error });
      return;
    }
    const failures = new Map(answer.failed.map((f) => [f.routeEntryId ?? canonical(f.destination), f]));
    const deleting: ApiRouteEntry[] = [];
    const again: ApiRouteEntry[] = [];
    for (const e of pending) {
      const f = failures.get(e.id) ?? failures.get(canonical(e.destination));
      if (!f || NOT_FOUND_ENTRY_CODES.has(f.code)) deleting.push(e);
      else if (BUSY_CODES.has(f.code)) again.push(e);
      else failed.push({ destination: canonical(e.destination), error: failureError(c, table, e.destination, f) });
    }
    const ids = new Set(deleting.map((e) => e.id));
    await c.settleTable('delete', table, signal, (entries) => !entries.some((x) => ids.has(x.id)));
    done.push(...deleting.map((e) => canonical(e.destination)));
    pending = again;
  }
}

function isOursWith(c: ProviderCore, e: ApiRouteEntry, r: DesiredRoute): boolean {
  const seen = c.classify(e);
  return seen.kind === 'owned' && sameNextHop(seen.entry.nextHop, r.nextHop);
}

function conflict(table: string, dest: string, e: ApiRouteEntry): ConflictError {
  const hops = e.nextHops.map((h) => `${h.type}:${h.id}`).join(',') || 'no next hop';
  return new ConflictError(`route ${dest} in ${table} already exists (${e.id} → ${hops}, name ${JSON.stringify(e.name)})`);
}

function failureError(c: ProviderCore, table: string, dest: string, f: BatchFailure): Error {
  return c.mapError(new AlicloudApiError(f.code, f.message, {}), table, dest) as Error;
}

function byDestination(entries: readonly ApiRouteEntry[]): Map<string, ApiRouteEntry> {
  return new Map(entries.map((e) => [canonical(e.destination), e]));
}

function canonical(text: string): string {
  try {
    return formatCidr(parseCidr(text.includes('/') ? text : `${text}/32`, 'destination', { allowHostBits: true }));
  } catch {
    return text;
  }
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
