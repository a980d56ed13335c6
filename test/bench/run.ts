// `npm run bench [-- --quick] [-- name…]`: runs every test/bench/*.bench.ts (or the
// named ones), prints one table, writes bench-results/<timestamp>.json.
import { globSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import type { BenchModule, BenchRow } from './result.ts';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { quick: { type: 'boolean', default: false } } });
const all = globSync('test/bench/*.bench.ts').sort();
const chosen = positionals.length > 0 ? all.filter((f) => positionals.some((p) => basename(f).startsWith(p))) : all;

const rows: BenchRow[] = [];
const failures: string[] = [];
for (const file of chosen) {
  const started = Date.now();
  process.stderr.write(`bench ${basename(file)} …\n`);
  try {
    const mod = (await import(pathToFileURL(resolve(file)).href)) as { default: BenchModule };
    rows.push(...(await mod.default({ quick: values.quick })));
  } catch (err) {
    failures.push(`${basename(file)}: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
  }
  process.stderr.write(`bench ${basename(file)} done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

const header = ['suite', 'metric', 'value', 'unit', 'target', 'met', 'note'];
const table = rows.map((r) => [r.suite, r.metric, formatValue(r.value), r.unit, r.target ?? '', r.met === undefined ? '' : r.met ? 'yes' : 'NO', r.note ?? '']);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
console.log(line(header));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const row of table) console.log(line(row));

mkdirSync('bench-results', { recursive: true });
const out = `bench-results/${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
writeFileSync(out, JSON.stringify({ at: new Date().toISOString(), node: process.version, quick: values.quick, rows, failures }, null, 2));
console.log(`\nwrote ${out}`);
if (failures.length > 0) {
  console.error(`\n${failures.length} bench module(s) failed:\n${failures.join('\n')}`);
  process.exitCode = 1;
}

function formatValue(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(v < 10 ? 3 : 1);
}
