// The one duration parser: Go-style text ("500ms", "10s", "1m30s", "24h") to
// milliseconds, and back for --help and the README. Bounds are per flag, and no
// flag's max may pass MAX_TIMEOUT_MS (flags.ts checks each table): setTimeout
// wraps delays of 2³¹ ms and more to 1 ms, a hot loop.
import { InvalidInputError } from '../errors.ts';

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go-style durations → milliseconds; `field` names the flag or variable in the error. */
export function parseDuration(text: string, field: string): number {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * UNITS[m[2]!]!;
    matched = re.lastIndex;
  }
  if (text === '' || matched !== text.length) throw new InvalidInputError(field, text, 'must be a duration like 500ms, 10s, 1m or 24h');
  if (!Number.isSafeInteger(Math.round(total))) throw new InvalidInputError(field, text, 'is far too long');
  return Math.round(total);
}

/** Milliseconds → the shortest Go-style text ("90s" → "1m30s", 86400000 → "24h"). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  const parts: string[] = [];
  let rest = ms;
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1000], ['ms', 1]] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n}${unit}`);
    rest -= n * size;
  }
  return parts.join('');
}
