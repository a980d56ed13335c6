// Route status: what the controller says about each lease's cloud route, read back
// by agents (hybrid path choice) and by `tartan audit`. One typed value and one
// codec, whatever keeps it (etcd: `<prefix>/routes/<subnet-key>`; Kubernetes: an
// annotation on the node). The wire form is JSON with the keys in this order:
// {"state","tables","reason","provider","updated"}; `reason` is null when there is none.
import { InvalidInputError } from '../errors.ts';
import type { JsonValue } from '../util/json.ts';

export const ROUTE_STATES = ['programmed', 'pending', 'overflow', 'conflict', 'error'] as const;
export type RouteState = (typeof ROUTE_STATES)[number];

/** The controller's view of one lease's routes, across every managed table. */
export interface RouteStatus {
  /** The worst of the per-table states. */
  readonly state: RouteState;
  readonly tables: Readonly<Record<string, RouteState>>;
  readonly reason?: string | undefined;
}

/** A status as stored: who wrote it and when. Values written by hand may lack both. */
export interface PublishedRouteStatus extends RouteStatus {
  readonly provider?: string | undefined;
  /** ISO 8601 time of the write. */
  readonly updated?: string | undefined;
}

export function isRouteState(value: unknown): value is RouteState {
  return typeof value === 'string' && (ROUTE_STATES as readonly string[]).includes(value);
}

export function encodeRouteStatus(status: PublishedRouteStatus): string {
  const value: Record<string, JsonValue> = { state: status.state, tables: { ...status.tables }, reason: status.reason ?? null };
  if (status.provider !== undefined) value.provider = status.provider;
  if (status.updated !== undefined) value.updated = status.updated;
  return JSON.stringify(value);
}

/** Parses a stored status; every error names the key, the field and the value. */
export function decodeRouteStatus(key: string, text: string): PublishedRouteStatus {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new InvalidInputError(`route status ${key}`, text, 'value is not JSON', { cause: err });
  }
  return routeStatusFromJson(key, raw);
}

/** The checks, on the parsed value. */
function routeStatusFromJson(key: string, raw: unknown): PublishedRouteStatus {
  const field = (name: string): string => `route status ${key}.${name}`;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new InvalidInputError(`route status ${key}`, raw, 'value is not a JSON object');
  }
  const obj = raw as Record<string, unknown>;
  if (!isRouteState(obj.state)) throw new InvalidInputError(field('state'), obj.state, `must be one of ${ROUTE_STATES.join(', ')}`);
  const tablesRaw = obj.tables;
  if (tablesRaw === null || typeof tablesRaw !== 'object' || Array.isArray(tablesRaw)) {
    throw new InvalidInputError(field('tables'), tablesRaw, 'must be an object of table → state');
  }
  const tables: Record<string, RouteState> = {};
  for (const [table, s] of Object.entries(tablesRaw)) {
    if (!isRouteState(s)) throw new InvalidInputError(field(`tables.${table}`), s, `must be one of ${ROUTE_STATES.join(', ')}`);
    tables[table] = s;
  }
  return {
    state: obj.state,
    tables,
    reason: optionalString(obj.reason, field('reason')),
    provider: optionalString(obj.provider, field('provider')),
    updated: optionalTime(obj.updated, field('updated')),
  };
}

function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new InvalidInputError(field, value, 'must be a string or null');
  return value;
}

function optionalTime(value: unknown, field: string): string | undefined {
  const text = optionalString(value, field);
  if (text !== undefined && Number.isNaN(Date.parse(text))) throw new InvalidInputError(field, text, 'must be an ISO 8601 time');
  return text;
}

/** Same state, tables and reason: who wrote it and when do not count as a change. */
export function sameRouteStatus(a: RouteStatus, b: RouteStatus): boolean {
  if (a.state !== b.state || (a.reason ?? undefined) !== (b.reason ?? undefined)) return false;
  const ta = Object.keys(a.tables);
  return ta.length === Object.keys(b.tables).length && ta.every((t) => a.tables[t] === b.tables[t]);
}

/** The controller reports the lease's route in effect in every managed table. */
export function isProgrammed(status: RouteStatus | undefined): boolean {
  return status?.state === 'programmed';
}

const PRIORITY: readonly RouteState[] = ['conflict', 'overflow', 'error', 'pending', 'programmed'];

/** The state a lease shows when its tables disagree: the one that most needs a person (or the fallback). */
export function worstRouteState(states: readonly RouteState[]): RouteState {
  return PRIORITY.find((p) => states.includes(p)) ?? 'pending';
}

/**
 * The controller's heartbeat beside the statuses (key `heartbeat`, which is no
 * subnet key): when it last observed the route tables, and its resync period.
 * Route status is only trusted while the heartbeat is fresh — younger than twice
 * the resync period plus 5 s — so a controller that stopped (or a route deleted
 * while it was away) never leaves agents on a VPC path nobody checks.
 */
export interface RouteStatusHeartbeat {
  /** ISO 8601: when the controller last listed every managed table. */
  readonly observed: string;
  readonly resyncSeconds: number;
  readonly provider?: string | undefined;
}

export const HEARTBEAT_KEY = 'heartbeat';

/** How long after `observed` a heartbeat still vouches for the statuses. */
export function freshnessBoundMs(hb: Pick<RouteStatusHeartbeat, 'resyncSeconds'>): number {
  return (2 * hb.resyncSeconds + 5) * 1000;
}

/** Whether a heartbeat still vouches for the statuses at `now` (epoch ms, the reader's wall clock). */
export function heartbeatFresh(hb: RouteStatusHeartbeat | undefined, now: number): boolean {
  return hb !== undefined && now - Date.parse(hb.observed) <= freshnessBoundMs(hb);
}

export function encodeHeartbeat(hb: RouteStatusHeartbeat): string {
  return JSON.stringify({ observed: hb.observed, resyncSeconds: hb.resyncSeconds, ...(hb.provider !== undefined ? { provider: hb.provider } : {}) });
}

export function decodeHeartbeat(text: string): RouteStatusHeartbeat {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new InvalidInputError(`route status ${HEARTBEAT_KEY}`, text, 'value is not JSON', { cause: err });
  }
  const o = raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  const observed = optionalTime(o.observed, `route status ${HEARTBEAT_KEY}.observed`);
  if (observed === undefined) throw new InvalidInputError(`route status ${HEARTBEAT_KEY}.observed`, o.observed, 'must be an ISO 8601 time');
  const resync = o.resyncSeconds;
  if (typeof resync !== 'number' || !(resync > 0)) throw new InvalidInputError(`route status ${HEARTBEAT_KEY}.resyncSeconds`, resync, 'must be a positive number');
  return { observed, resyncSeconds: resync, provider: optionalString(o.provider, `route status ${HEARTBEAT_KEY}.provider`) };
}

/** What a store read of every status gives: the values that decode, and the ones that do not (never fatal). */
export interface RouteStatusRead {
  readonly statuses: ReadonlyMap<string, PublishedRouteStatus>;
  readonly unreadable: ReadonlyMap<string, InvalidInputError>;
  /** The controller's heartbeat, when there is one that decodes. */
  readonly heartbeat?: RouteStatusHeartbeat | undefined;
}

/** Decodes a whole listing, keeping the ones that fail apart with their error. */
export function decodeRouteStatuses(entries: Iterable<readonly [string, string]>): RouteStatusRead {
  const statuses = new Map<string, PublishedRouteStatus>();
  const unreadable = new Map<string, InvalidInputError>();
  let heartbeat: RouteStatusHeartbeat | undefined;
  for (const [key, text] of entries) {
    try {
      if (key === HEARTBEAT_KEY) {
        heartbeat = decodeHeartbeat(text);
        continue;
      }
      statuses.set(key, decodeRouteStatus(key, text));
    } catch (err) {
      unreadable.set(key, err as InvalidInputError);
    }
  }
  return { statuses, unreadable, heartbeat };
}
