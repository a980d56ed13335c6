// The first line of every audit: the answer to "is every subnet routed, and is
// anything routed that should not be?", e.g.
//   DRIFT: 3 missing, 1 stale, 1 conflict in 2 of 3 tables (5,000 leases, 4,996 ok)
//   OK: no drift in 3 tables (5,000 leases, 5,000 ok)
import type { DriftKind } from '../controller/drift.ts';
import type { AuditReport } from './report.ts';

export const DRIFT_KINDS: readonly Exclude<DriftKind, 'ok'>[] = ['missing', 'overflow', 'wrong-next-hop', 'blackhole', 'stale', 'conflict'];

export function summaryLine(r: AuditReport): string {
  if (r.result === 'error') return `ERROR: could not audit: ${r.error?.message ?? 'unknown reason'}`;
  const s = r.summary;
  const parts: string[] = [];
  const cloud = r.sources.cloud !== null;
  const kinds = DRIFT_KINDS.filter((k) => s.routes[k] > 0).map((k) => `${count(s.routes[k])} ${k}`);
  if (kinds.length > 0) parts.push(`${kinds.join(', ')} in ${count(s.tablesWithDrift)} of ${plural(s.tables, 'table')}`);
  if (s.unreadableLeases > 0) parts.push(plural(s.unreadableLeases, 'unreadable lease'));
  if (s.statusDisagreements > 0) parts.push(plural(s.statusDisagreements, 'route status disagreement'));
  const k = s.kernel;
  if (k && k.missing + k.extra + k.different > 0) {
    parts.push(`kernel: ${[['missing', k.missing], ['extra', k.extra], ['different', k.different]].filter(([, n]) => Number(n) > 0).map(([w, n]) => `${count(Number(n))} ${String(w)}`).join(', ')}`);
  }
  const outside = s.outOfDomain > 0 ? `, ${count(s.outOfDomain)} outside the cloud's network` : '';
  const tail = `(${plural(s.leases, 'lease')}, ${count(s.leasesOk)} ok${outside})`;
  const invalid = s.invalidLeases > 0 ? `; ${plural(s.invalidLeases, 'invalid lease')} set aside` : '';
  if (r.result === 'drift') return `DRIFT: ${parts.join('; ')}${invalid} ${tail}`;
  const ok = [cloud ? `no drift in ${plural(s.tables, 'table')}` : 'no drift; cloud not audited'];
  if (r.kernel) ok.push(`kernel matches ${plural(r.kernel.peers, 'peer')}`);
  if (r.result === 'invalid') return `INVALID: ${plural(s.invalidLeases, 'lease')} set aside by the validator; ${ok.join('; ')} ${tail}`;
  return `OK: ${ok.join('; ')} ${tail}`;
}

export function count(n: number): string {
  return n.toLocaleString('en-US');
}

export function plural(n: number, noun: string): string {
  return `${count(n)} ${noun}${n === 1 ? '' : 's'}`;
}
