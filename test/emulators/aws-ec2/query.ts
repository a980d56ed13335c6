// Reading EC2 Query parameters: flattened lists (`RouteTableId.1`), filters
// (`Filter.1.Name`, `Filter.1.Value.1`), paging (`MaxResults`, `NextToken`).
import { Ec2Fault, fault } from './faults.ts';

export type Params = ReadonlyMap<string, string>;

export interface Filter {
  readonly name: string;
  readonly values: readonly string[];
}

export function required(params: Params, name: string): string {
  const v = params.get(name);
  if (v === undefined || v === '') throw fault.missing(name);
  return v;
}

/** `Name.1`, `Name.2`, … in index order. */
export function indexed(params: Params, name: string): string[] {
  const re = new RegExp(`^${name.replace(/\./g, '\\.')}\\.(\\d+)$`);
  const found: [number, string][] = [];
  for (const [k, v] of params) {
    const m = re.exec(k);
    if (m) found.push([Number(m[1]), v]);
  }
  return found.sort((a, b) => a[0] - b[0]).map(([, v]) => v);
}

export function filters(params: Params): Filter[] {
  const out: Filter[] = [];
  for (const [k, name] of params) {
    const m = /^Filter\.(\d+)\.Name$/.exec(k);
    if (m) out.push({ name, values: indexed(params, `Filter.${m[1]}.Value`) });
  }
  return out;
}

/** EC2 filter values accept `*` and `?` wildcards. */
export function matchesAny(values: readonly string[], candidates: readonly (string | undefined)[]): boolean {
  return values.some((pattern) => {
    // Literal values (the common case: IPs, ids) compare directly; only wildcards need a RegExp.
    if (!/[*?]/.test(pattern)) return candidates.includes(pattern);
    const re = wildcard(pattern);
    return candidates.some((c) => c !== undefined && re.test(c));
  });
}

const wildcards = new Map<string, RegExp>();
function wildcard(pattern: string): RegExp {
  let re = wildcards.get(pattern);
  if (!re) {
    re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
    wildcards.set(pattern, re);
  }
  return re;
}

/** MaxResults within EC2's range for the action (5–100 for route tables, 5–1000 for instances). */
export function maxResults(params: Params, upper: number): number | undefined {
  const text = params.get('MaxResults');
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 5 || n > upper) {
    throw fault.invalidValue('maxResults', text, `Expecting a value between 5 and ${upper}.`);
  }
  return n;
}

export function boolValue(params: Params, name: string): boolean | undefined {
  const v = params.get(name);
  if (v === undefined) return undefined;
  if (v !== 'true' && v !== 'false') throw fault.invalidValue(name, v, 'Expecting true or false.');
  return v === 'true';
}

/**
 * One page of `items` (sorted by key) after the NextToken's key. Tokens are opaque
 * to clients; ours name the last key served, so pages stay right while items change.
 */
export function page<T>(items: readonly T[], keyOf: (x: T) => string, params: Params, cap: number, limit: number): { items: T[]; nextToken?: string } {
  const sorted = [...items].sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
  const token = params.get('NextToken');
  let start = 0;
  if (token !== undefined) {
    const after = decodeToken(token);
    start = sorted.findIndex((x) => keyOf(x) > after);
    if (start < 0) start = sorted.length;
  }
  const size = Math.min(cap, limit);
  const slice = sorted.slice(start, start + size);
  const more = start + size < sorted.length;
  return more ? { items: slice, nextToken: encodeToken(keyOf(slice[slice.length - 1]!)) } : { items: slice };
}

function encodeToken(key: string): string {
  return Buffer.from(JSON.stringify({ after: key }), 'utf8').toString('base64');
}

function decodeToken(token: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { after?: unknown };
    if (typeof parsed.after === 'string') return parsed.after;
  } catch {
    // falls through to the EC2 error below
  }
  throw fault.badToken();
}

export function isFault(err: unknown): err is Ec2Fault {
  return err instanceof Ec2Fault;
}
