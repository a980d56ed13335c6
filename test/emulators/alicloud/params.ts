// RPC parameters arrive flat (`RouteEntries.2.DstCidrBlock=…`); these helpers
// read them with the API's own errors for missing or bad values.
import { randomUUID } from 'node:crypto';
import { apiErrors } from './errors.ts';
import type { World } from './model.ts';

export type Params = Readonly<Record<string, string>>;

export interface ActionContext {
  readonly world: World;
  readonly params: Params;
  readonly now: number;
  readonly requestId: string;
  /** Replays of CreateRouteEntry by ClientToken. */
  readonly clientTokens: Map<string, { routeEntryId: string; at: number }>;
}

export type ActionHandler = (ctx: ActionContext) => Record<string, unknown>;

export function newRequestId(): string {
  return randomUUID().toUpperCase();
}

export function required(params: Params, name: string): string {
  const v = params[name];
  if (v === undefined || v === '') throw apiErrors.missingParameter(name);
  return v;
}

export function optional(params: Params, name: string): string | undefined {
  const v = params[name];
  return v === undefined || v === '' ? undefined : v;
}

export function integer(params: Params, name: string, opts: { min: number; max: number; fallback: number }): number {
  const raw = params[name];
  if (raw === undefined || raw === '') return opts.fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < opts.min || n > opts.max) {
    throw apiErrors.invalidParameter(name, `must be an integer from ${opts.min} to ${opts.max}`);
  }
  return n;
}

/** `Prefix.N.Field` → [{Field: …}, …] ordered by N (N starts at 1). */
export function repeated(params: Params, prefix: string): Record<string, string>[] {
  const byIndex = new Map<number, Record<string, string>>();
  const head = `${prefix}.`;
  for (const [key, value] of Object.entries(params)) {
    if (!key.startsWith(head)) continue;
    const [index, ...field] = key.slice(head.length).split('.');
    const n = Number(index);
    if (!Number.isInteger(n) || n < 1) throw apiErrors.invalidParameter(key, 'the list index must start at 1');
    const item = byIndex.get(n) ?? {};
    item[field.join('.')] = value;
    byIndex.set(n, item);
  }
  return [...byIndex.entries()].sort((a, b) => a[0] - b[0]).map(([, item]) => item);
}

/** `Prefix.N=value` → values ordered by N. */
export function repeatedValues(params: Params, prefix: string): string[] {
  return Object.entries(params)
    .filter(([k]) => k.startsWith(`${prefix}.`) && /^\d+$/.test(k.slice(prefix.length + 1)))
    .sort((a, b) => Number(a[0].slice(prefix.length + 1)) - Number(b[0].slice(prefix.length + 1)))
    .map(([, v]) => v);
}

/** Names and descriptions: 1–N characters, not starting with http:// or https:// (reference). */
export function label(params: Params, name: string, max: number): string | undefined {
  const v = optional(params, name);
  if (v === undefined) return undefined;
  if (v.length > max || /^https?:\/\//.test(v)) throw apiErrors.invalidParameter(name, `must be 1 to ${max} characters and not start with http:// or https://`);
  return v;
}
