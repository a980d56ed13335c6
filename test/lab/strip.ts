// Makes a plain-JavaScript copy of some source folders (types stripped, `.ts`
// imports rewritten to `.js`), like `npm run build` produces. The memory bench
// runs its child from it: a Node process that loads .ts files carries the type
// stripper (~45 MB resident) that a built deployment does not.
import { mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { stripTypeScriptTypes } from 'node:module';
import { dirname, join, relative } from 'node:path';

const SPECIFIER = /((?:from|import)\s*\(?\s*)(['"])(\.{1,2}\/[^'"]+)\.ts\2/g;

export function stripToJs(o: { root: string; dirs: readonly string[]; outDir: string }): void {
  for (const dir of o.dirs) {
    for (const file of walk(join(o.root, dir))) {
      if (!file.endsWith('.ts') || file.endsWith('.test.ts') || file.endsWith('.d.ts')) continue;
      const js = stripTypeScriptTypes(readFileSync(file, 'utf8'), { mode: 'strip' }).replace(SPECIFIER, '$1$2$3.js$2');
      const out = join(o.outDir, relative(o.root, file)).replace(/\.ts$/, '.js');
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(out, js);
    }
  }
  writeFileSync(join(o.outDir, 'package.json'), '{ "type": "module" }\n');
  symlinkSync(join(o.root, 'node_modules'), join(o.outDir, 'node_modules'));
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]);
}
