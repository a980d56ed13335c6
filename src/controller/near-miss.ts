// A controller whose tag selector finds no route table manages nothing and would
// say nothing. This names what it looked for and the tables it saw that look like
// a typo away: a tag with the same key and a value that differs in case or by a
// small edit, a key a small edit away, a key under the same domain (tartan.io/…),
// or a key or value naming the cluster (kubernetes.io/cluster/<name> without
// --route-table-tag kubernetes).
import type { TableCandidate, TableLookup } from '../../providers/route-table.ts';

type Tag = NonNullable<TableLookup['tableTag']>;

export interface NearMiss {
  readonly table: string;
  /** The tag that made it look close, as key=value. */
  readonly tag: string;
}

export function describeTag(tag: Tag): string {
  return tag.value === undefined ? `tag ${tag.key} (any value)` : `tag ${tag.key}=${tag.value}`;
}

/** Edit distance (insert, delete, substitute), capped: anything beyond `max` is max + 1. */
function distance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return Math.min(prev[b.length]!, max + 1);
}

const close = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase() || distance(a, b, 2) <= 2;

function looksClose(want: Tag, key: string, value: string): boolean {
  if (key === want.key) return want.value !== undefined && close(value, want.value);
  if (close(key, want.key)) return true;
  const domain = want.key.split('/')[0]!;
  if (key.split('/')[0] === domain) return true;
  const name = want.value ?? want.key.split('/').at(-1)!;
  return name.length >= 3 && [key.split('/').at(-1)!, value].some((s) => close(s, name));
}

/** The candidates (not selected) with a tag that looks close to `want`, at most `limit`. */
export function nearMisses(want: Tag, candidates: readonly TableCandidate[], limit = 10): NearMiss[] {
  const out: NearMiss[] = [];
  for (const t of candidates) {
    const hit = Object.entries(t.tags).find(([k, v]) => looksClose(want, k, v));
    if (hit) out.push({ table: t.id, tag: `${hit[0]}=${hit[1]}` });
    if (out.length >= limit) break;
  }
  return out;
}

/** The one-line reason a controller that manages no table gives (log warning, /readyz). */
export function unmanagedReason(selector: string, misses: readonly NearMiss[] | undefined): string {
  const seen = misses === undefined ? 'this cloud cannot list other tables to compare'
    : misses.length === 0 ? 'no table with a similar tag'
      : `similar: ${misses.map((m) => `${m.table} (${m.tag})`).join(', ')}`;
  return `no route table matches ${selector}; ${seen}`;
}
