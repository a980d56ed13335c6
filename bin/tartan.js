#!/usr/bin/env node
// Entry point of the installed binary: runs the built CLI (npm run build) when there, else the
// TypeScript source directly (Node 24 strips types natively).
// Until the version check passes this file is plain JavaScript any Node since 12 parses
// (no top-level await, no `node:` imports): an older Node says what it needs in one line
// and exits 2, instead of failing on the .ts import with a stack trace.
// `npx tartan` under an older npm is a supported path (the node@24 devDependency is first on
// npx's PATH). package.json has no `engines` on purpose: npx links this checkout into its
// cache (~/.npm/_npx) and checked `engines` against npm's own Node, printing five EBADENGINE
// lines before every first run; this check is the requirement, and it says so in one line.
import { existsSync } from 'fs';

const NEEDED = 24;
const found = Number(process.versions.node.split('.')[0]);
if (!(found >= NEEDED)) {
  process.stderr.write(`tartan: needs Node.js ${NEEDED} or newer, found ${process.version} (${process.execPath}); ` +
    `run it as \`npx tartan\` in the tartan checkout (its Node ${NEEDED}), with the image (ghcr.io/tartan-net/tartan), or with Node ${NEEDED} on PATH\n`);
  process.exit(2);
}
const compiled = new URL('../dist/main.js', import.meta.url);
const source = new URL('../src/cli/main.ts', import.meta.url);
import(existsSync(compiled) ? compiled.href : source.href)
  .then(({ main }) => main(process.argv.slice(2)))
  .then((code) => { process.exitCode = code; });
