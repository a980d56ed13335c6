#!/usr/bin/env node
// Entry point of the installed binary: runs the built CLI (npm run build) when there, else the
// TypeScript source directly (Node 24 strips types natively).
import { existsSync } from 'node:fs';
const compiled = new URL('../dist/main.js', import.meta.url);
const source = new URL('../src/cli/main.ts', import.meta.url);
const { main } = await import(existsSync(compiled) ? compiled.href : source.href);
process.exitCode = await main(process.argv.slice(2));
