// The audit for terminals: the summary line first, then one small table per
// section that has something to say. Colour only when asked (the CLI asks when
// stdout is a TTY and NO_COLOR is unset). Long lists stop at `limit` rows.
import type { AuditReport, NextHopJson } from './report.ts';
import { DRIFT_KINDS, count, plural, summaryLine } from './summary.ts';

export interface TableOptions {
  readonly color: boolean;
  /** Rows per detail section; 0 = all. */
  readonly limit: number;
}

type Tone = 'bad' | 'warn' | 'good' | 'dim' | 'bold' | undefined;
interface Cell { readonly text: string; readonly tone?: Tone }
type Row = readonly (string | Cell)[];

const CODES: Record<Exclude<Tone, undefined>, string> = { bad: '31', warn: '33', good: '32', dim: '2', bold: '1' };
const TONE_OF: Readonly<Record<string, Tone>> = {
  missing: 'bad', 'wrong-next-hop': 'bad', blackhole: 'bad', conflict: 'bad', extra: 'bad', different: 'bad',
  mismatch: 'bad', orphan: 'warn', unreadable: 'bad', overflow: 'warn', stale: 'warn',
};

export function renderTable(r: AuditReport, opts: TableOptions): string {
  const paint = (text: string, tone: Tone): string => (opts.color && tone ? `\u001b[${CODES[tone]}m${text}\u001b[0m` : text);
  const line = summaryLine(r);
  const head = line.replace(/^(\w+):/, (_m, word: string) => paint(`${word}:`, word === 'OK' ? 'good' : 'bad'));
  const sections = [
    tablesSection(r),
    routeDriftSection(r, opts.limit),
    listSection('UNREADABLE LEASES', ['LEASE', 'ERROR'], r.unreadableLeases.map((u) => [u.lease, u.error]), opts.limit),
    listSection('INVALID LEASES (set aside: nothing is programmed for them)', ['LEASE', 'REASON', 'WOULD BE', 'DETAIL'],
      r.invalidLeases.map((i) => [i.lease, i.reason, `${[i.would.subnet, i.would.ipv6Subnet].filter(Boolean).join(' ')} via ${i.would.publicIp}`, i.message]), opts.limit),
    listSection('ROUTE STATUS (published by the controller vs observed)', ['LEASE', 'DISAGREEMENT', 'TABLE', 'PUBLISHED', 'OBSERVED', 'DETAIL'],
      r.statusDisagreements.map((d) => [d.lease, kindCell(d.kind), d.table ?? '-', d.published ?? '-', d.observed ?? '-', d.message]), opts.limit),
    kernelSection(r, opts.limit),
    planSection(r, opts.limit),
  ].filter((s): s is Section => s !== undefined);
  return [head, ...sections.map((s) => renderSection(s, paint))].join('\n\n') + '\n';
}

interface Section { readonly title: string; readonly headers: readonly string[]; readonly rows: readonly Row[]; readonly footer?: readonly string[] }

function tablesSection(r: AuditReport): Section | undefined {
  if (r.sources.cloud === null) return undefined;
  const rows = r.tables.map((t): Row => [
    t.name && t.name !== t.id ? `${t.id} (${t.name})` : t.id,
    { text: `${count(t.capacity.used)}/${count(t.capacity.quota)}`, tone: t.capacity.free === 0 ? 'warn' : undefined },
    count(t.counts.ok),
    ...DRIFT_KINDS.map((k): Cell => ({ text: count(t.counts[k]), tone: t.counts[k] > 0 ? TONE_OF[k] : 'dim' })),
  ]);
  const footer = r.outOfDomain.length > 0 ? [`${plural(r.outOfDomain.length, 'lease')} outside ${r.sources.cloud.provider}'s network (routed by the agents' fallback path, not drift)`] : [];
  return { title: `ROUTE TABLES (${r.sources.cloud.provider})`, headers: ['TABLE', 'USED/QUOTA', 'OK', ...DRIFT_KINDS.map((k) => k.toUpperCase())], rows, footer };
}

function routeDriftSection(r: AuditReport, limit: number): Section | undefined {
  const items = r.tables.flatMap((t) => t.drift);
  const rows = items.map((i): Row => [
    i.table, i.destination, kindCell(i.kind), i.lease ?? '-', hopText(i.want),
    i.have ? `${hopText(i.have.nextHop)}${i.have.state === 'active' ? '' : ` (${i.have.state})`}${i.have.owned ? '' : ' not tartan\'s'}` : '-',
  ]);
  return listSection('ROUTE DRIFT', ['TABLE', 'DESTINATION', 'DRIFT', 'LEASE', 'WANT', 'HAVE'], rows, limit);
}

function kernelSection(r: AuditReport, limit: number): Section | undefined {
  const k = r.kernel;
  if (!k) return undefined;
  const routed = k.cloudRoutedPeers > 0 ? ` (+${count(k.cloudRoutedPeers)} routed by the cloud)` : '';
  const title = `KERNEL (${k.backend}${k.netns ? `, netns ${k.netns}` : ''}, own lease ${k.ownLease}, ${plural(k.peers, 'peer')}${routed}, ${count(k.objects.observed)}/${count(k.objects.expected)} objects)`;
  const rows = k.drift.map((d): Row => [kindCell(d.kind), d.peer ?? '-', d.object.text, d.have ? `kernel has: ${d.have.text}` : '']);
  const skipped = k.skippedPeers.map((s) => `skipped by the agent: ${s.lease}: ${s.reason}`);
  if (rows.length === 0) return { title, headers: [], rows: [], footer: ['no drift', ...skipped] };
  const section = listSection(title, ['DRIFT', 'PEER', 'OBJECT', ''], rows, limit)!;
  return { ...section, footer: [...(section.footer ?? []), ...skipped] };
}

function planSection(r: AuditReport, limit: number): Section | undefined {
  const p = r.plan;
  if (!p) return undefined;
  const title = 'PLAN (what the controller would do; nothing was changed)';
  const rows = p.actions.map((a): Row => {
    if (a.op === 'delete') return [{ text: 'delete', tone: 'warn' }, a.table, a.destination, `was ${hopText(a.nextHop)}`, ''];
    const was = a.op === 'replace' ? ` (was ${hopText(a.old)})` : '';
    return [a.op, a.table, a.destination, `→ ${hopText(a.nextHop)}${was}`, a.lease];
  });
  const held = p.held.deletions > 0 ? [`held back: ${plural(p.held.deletions, 'deletion')} (${p.held.reason ?? 'no reason given'})`] : [];
  if (rows.length === 0) return { title, headers: [], rows: [], footer: ['no action', ...held] };
  const section = listSection(title, ['ACTION', 'TABLE', 'DESTINATION', 'NEXT HOP', 'LEASE'], rows, limit)!;
  return { ...section, footer: [...(section.footer ?? []), ...held] };
}

function listSection(title: string, headers: readonly string[], rows: readonly Row[], limit: number): Section | undefined {
  if (rows.length === 0) return undefined;
  const shown = limit > 0 ? rows.slice(0, limit) : rows;
  const footer = shown.length < rows.length ? [`… and ${count(rows.length - shown.length)} more (--limit 0 shows all; --output json lists everything)`] : [];
  return { title, headers, rows: shown, footer };
}

function renderSection(s: Section, paint: (text: string, tone: Tone) => string): string {
  const cells = s.rows.map((row) => row.map((c): Cell => (typeof c === 'string' ? { text: c } : c)));
  const widths = s.headers.map((h, i) => Math.max(h.length, ...cells.map((row) => row[i]?.text.length ?? 0)));
  const lines = [paint(s.title, 'bold')];
  if (s.headers.length > 0) {
    lines.push(s.headers.map((h, i) => h.padEnd(widths[i]!)).join('  ').trimEnd());
    for (const row of cells) {
      const last = row.length - 1;
      lines.push(row.map((c, i) => paint(i === last ? c.text : c.text.padEnd(widths[i]!), c.tone)).join('  ').trimEnd());
    }
  }
  for (const f of s.footer ?? []) lines.push(paint(f, 'dim'));
  return lines.join('\n');
}

function kindCell(kind: string): Cell {
  return { text: kind, tone: TONE_OF[kind] };
}

function hopText(h: NextHopJson | null): string {
  if (!h) return '-';
  return h.kind === 'eni' ? `eni ${h.id}` : h.id;
}
