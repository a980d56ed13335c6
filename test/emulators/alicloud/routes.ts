// Route entry writes with the checks the VPC API makes, in its order: table,
// next hop type, CIDR shape, CIDR rules, next hop, duplicate, quota. Each throws
// the ApiError the reference lists; the batch actions turn those into per-entry
// failures.
import { contains, equalCidr, formatCidr, normalize, parseCidr, type Cidr } from '../../../src/net/cidr.ts';
import { ApiError, apiErrors } from './errors.ts';
import { type EntryRecord, type NextHopRecord, type TableRecord, type World, isoSeconds } from './model.ts';

const CLOUD_SERVICES = parseCidr('100.64.0.0/10');

export interface NewEntry {
  readonly tableId: string;
  readonly destination: string;
  readonly nextHopType: string;
  readonly nextHopId: string;
  readonly name: string;
  readonly description: string;
}

export function tableFor(world: World, id: string | undefined): TableRecord {
  if (!id) throw apiErrors.missingParameter('RouteTableId');
  const table = world.tables.get(id);
  if (!table) throw apiErrors.routeTableNotFound();
  return table;
}

/** "10.0.0.1" means 10.0.0.1/32 (reference); host bits are cleared. */
export function parseDestination(text: string | undefined, param: string): Cidr {
  if (!text) throw apiErrors.missingParameter(param);
  const withMask = text.includes('/') ? text : `${text}/${text.includes(':') ? 128 : 32}`;
  try {
    return parseCidr(withMask, param, { allowHostBits: true });
  } catch {
    throw apiErrors.cidrMalformed();
  }
}

/**
 * Validates and adds one entry in Pending. `strict` applies CreateRouteEntries'
 * rules (no overlap with a vSwitch, nothing inside 100.64.0.0/10).
 */
export function createEntry(world: World, req: NewEntry, now: number, strict: boolean): EntryRecord {
  const table = tableFor(world, req.tableId);
  if (req.nextHopType !== 'Instance') throw apiErrors.nextHopType();
  const dest = normalize(parseDestination(req.destination, strict ? 'DstCidrBlock' : 'DestinationCidrBlock'));
  const inServices = strict ? contains(CLOUD_SERVICES, dest) : equalCidr(CLOUD_SERVICES, dest);
  if (inServices || world.vswitchConflict(table.vpcId, dest, strict)) throw apiErrors.cidrNotAllowed();
  const instance = world.instances.get(req.nextHopId);
  if (!req.nextHopId || !instance || instance.vpcId !== table.vpcId) throw apiErrors.nextHopNotFound();
  if (world.findByDestination(table, dest)) throw apiErrors.cidrDuplicate();
  if (world.customCount(table) >= world.quotaOf(table)) throw apiErrors.quotaExceeded();
  const entry: EntryRecord = {
    id: world.newId('rte'),
    tableId: table.id,
    destination: formatCidr(dest),
    name: req.name,
    description: req.description,
    type: 'Custom',
    ipVersion: dest.family === 4 ? 'IPv4' : 'IPv6',
    nextHops: [{ NextHopId: req.nextHopId, NextHopType: 'Instance' }],
    origin: 'CustomCreate',
    gmtModified: isoSeconds(now),
    ...transition(world, 'Pending', now),
  };
  table.entries.set(entry.id, entry);
  return entry;
}

export interface EntryRef {
  readonly routeEntryId?: string | undefined;
  readonly tableId?: string | undefined;
  readonly destination?: string | undefined;
  readonly nextHopId?: string | undefined;
}

/** Finds the entry a delete or modify names: by RouteEntryId, or by table + destination (+ next hop). */
export function findRef(world: World, ref: EntryRef, destParam: string): EntryRecord {
  if (ref.routeEntryId) {
    const e = world.findEntry(ref.routeEntryId);
    if (!e || (ref.tableId && e.tableId !== ref.tableId)) throw apiErrors.entryNotFound();
    return e;
  }
  const table = tableFor(world, ref.tableId);
  const e = world.findByDestination(table, normalize(parseDestination(ref.destination, destParam)));
  if (!e || (ref.nextHopId && !e.nextHops.some((h) => h.NextHopId === ref.nextHopId))) throw apiErrors.entryNotFound();
  return e;
}

/** Only Available custom entries may be deleted (reference: "Only routes in the Available state"). */
export function deleteEntry(world: World, entry: EntryRecord, now: number): void {
  if (entry.type === 'System') throw apiErrors.systemEntry();
  if (entry.status !== 'Available') throw apiErrors.entryStatus();
  Object.assign(entry, transition(world, 'Deleting', now), { gmtModified: isoSeconds(now) });
}

export interface EntryChange {
  readonly name?: string | undefined;
  readonly description?: string | undefined;
  readonly newNextHopId?: string | undefined;
  readonly newNextHopType?: string | undefined;
}

/** ModifyRouteEntry: name and description at once; a new next hop puts the entry in Modifying. */
export function modifyEntry(world: World, entry: EntryRecord, change: EntryChange, now: number): void {
  if (entry.type === 'System') throw apiErrors.systemEntry();
  if (entry.status !== 'Available') throw apiErrors.entryStatus();
  if (change.newNextHopId !== undefined) {
    const type = change.newNextHopType ?? 'Instance';
    if (type !== 'Instance') throw apiErrors.nextHopType();
    const table = tableFor(world, entry.tableId);
    const instance = world.instances.get(change.newNextHopId);
    if (!instance || instance.vpcId !== table.vpcId) throw apiErrors.nextHopNotFound();
    if (entry.nextHops.some((h) => h.NextHopId === change.newNextHopId && h.Enabled !== 0)) throw apiErrors.nextHopNotChanged();
    const hop: NextHopRecord = { NextHopId: change.newNextHopId, NextHopType: type };
    entry.nextHops = [hop];
    Object.assign(entry, transition(world, 'Modifying', now));
  }
  if (change.name !== undefined) entry.name = change.name;
  if (change.description !== undefined) entry.description = change.description;
  entry.gmtModified = isoSeconds(now);
}

export function isApiError(err: unknown): err is ApiError {
  return err instanceof ApiError;
}

function transition(world: World, status: 'Pending' | 'Deleting' | 'Modifying', now: number): Pick<EntryRecord, 'status' | 'settlesAt'> {
  const ms = status === 'Pending' ? world.settings.pendingMs : status === 'Deleting' ? world.settings.deletingMs : world.settings.modifyingMs;
  // A zero delay still passes through the state, so a read right after sees it settle.
  return { status, settlesAt: now + ms };
}
