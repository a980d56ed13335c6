// The compute list `filter` parameter. Two dialects, never mixed in one filter
// (the reference says so, and the API answers 400 when they are):
//   regex:   `field eq literal`, `field ne 'lit'`, `(f1 eq "a.*") (f2 ne b)`; the
//            literal is an RE2 pattern that must match the whole field.
//   AIP-160: `field = value`, `field != value`, `(a = 1) AND (b != "x") OR (c = y)`.
// Several parenthesized terms are joined by AND unless OR is written; AND binds
// tighter than OR. Dotted paths walk nested objects; on an array, a term matches
// when any element does.
import { ApiError } from './resources.ts';

type Op = 'eq' | 'ne' | '=' | '!=';
interface Term { readonly path: readonly string[]; readonly op: Op; readonly literal: string; readonly re?: RegExp }
/** Disjunction of conjunctions. */
export type Filter = readonly (readonly Term[])[];

const invalid = (filter: string, why: string): ApiError =>
  new ApiError(400, 'invalid', `Invalid list filter expression '${filter}': ${why}`);

export function parseFilter(text: string | undefined): Filter {
  const src = (text ?? '').trim();
  if (src === '') return [];
  const out: Term[][] = [[]];
  for (const { text: termText, joiner } of splitTerms(src)) {
    if (joiner === 'OR') out.push([]);
    out[out.length - 1]!.push(parseTerm(termText, src));
  }
  const dialects = new Set(out.flat().map((t) => (t.op === 'eq' || t.op === 'ne' ? 'regex' : 'aip')));
  if (dialects.size > 1) throw invalid(src, 'regular-expression and AIP-160 comparisons cannot be mixed');
  return out;
}

export function matches(filter: Filter, item: unknown): boolean {
  if (filter.length === 0) return true;
  return filter.some((all) => all.every((t) => matchTerm(t, item)));
}

/** Splits the filter into terms (a parenthesized group, or bare text up to the next AND/OR) and their joiners. */
function splitTerms(src: string): { text: string; joiner: 'AND' | 'OR' }[] {
  const out: { text: string; joiner: 'AND' | 'OR' }[] = [];
  let i = 0;
  let joiner: 'AND' | 'OR' = 'AND';
  while (i < src.length) {
    while (src[i] === ' ') i++;
    if (i >= src.length) break;
    const word = /^(AND|OR)\s/.exec(src.slice(i));
    if (word) {
      joiner = word[1] as 'AND' | 'OR';
      i += word[0].length;
      continue;
    }
    const end = src[i] === '(' ? closingParen(src, i) + 1 : bareEnd(src, i);
    const raw = src.slice(i, end).trim();
    out.push({ text: raw.startsWith('(') ? raw.slice(1, -1).trim() : raw, joiner });
    joiner = 'AND';
    i = end;
  }
  return out;
}

/** Bare text runs to the next top-level ` AND ` / ` OR ` outside quotes, or to the end. */
function bareEnd(src: string, start: number): number {
  let quote: string | undefined;
  for (let i = start; i < src.length; i++) {
    const c = src[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === ' ' && /^ (AND|OR) /.test(src.slice(i))) return i;
  }
  return src.length;
}

function closingParen(src: string, open: number): number {
  let quote: string | undefined;
  for (let i = open + 1; i < src.length; i++) {
    const c = src[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === ')') return i;
  }
  throw invalid(src, 'unbalanced parentheses');
}

function parseTerm(text: string, whole: string): Term {
  const m = /^([A-Za-z][A-Za-z0-9_.]*)\s*(!=|=|\seq\s|\sne\s)\s*(.*)$/s.exec(text);
  if (!m) throw invalid(whole, `cannot parse '${text}'`);
  const op = m[2]!.trim() as Op;
  const literal = unquote(m[3]!.trim(), whole);
  const term: Term = { path: m[1]!.split('.'), op, literal };
  if (op === 'eq' || op === 'ne') {
    try {
      return { ...term, re: new RegExp(`^(?:${literal})$`, 's') };
    } catch {
      throw invalid(whole, `'${literal}' is not a valid regular expression`);
    }
  }
  return term;
}

function unquote(lit: string, whole: string): string {
  if (lit === '') throw invalid(whole, 'missing literal');
  const q = lit[0];
  if (q === '"' || q === "'") {
    if (lit.length < 2 || lit[lit.length - 1] !== q) throw invalid(whole, `unterminated quote in ${lit}`);
    return lit.slice(1, -1);
  }
  return lit;
}

function matchTerm(t: Term, item: unknown): boolean {
  const values = valuesAt(item, t.path);
  const hit = values.some((v) => (t.re ? t.re.test(v) : v === t.literal));
  return t.op === 'eq' || t.op === '=' ? hit : !hit;
}

function valuesAt(item: unknown, path: readonly string[]): string[] {
  let current: unknown[] = [item];
  for (const key of path) {
    const next: unknown[] = [];
    for (const v of current) {
      const child = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined;
      if (Array.isArray(child)) next.push(...(child as unknown[]));
      else if (child !== undefined) next.push(child);
    }
    current = next;
  }
  return current.filter((v) => ['string', 'number', 'boolean'].includes(typeof v)).map(String);
}
