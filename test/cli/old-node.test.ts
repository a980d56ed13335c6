// bin/tartan.js under a Node older than 24 (the machine's /usr/bin/node): one line
// saying what it needs, what it found and how to run it, exit 2; no stack trace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';

const OLD_NODE = '/usr/bin/node';
const BIN = new URL('../../bin/tartan.js', import.meta.url).pathname;

async function oldNodeVersion(): Promise<string | undefined> {
  if (!existsSync(OLD_NODE)) return undefined;
  const { stdout } = await promisify(execFile)(OLD_NODE, ['--version']);
  return stdout.trim();
}

test('bin/tartan.js run by an older Node prints one line and exits 2', async (t) => {
  const version = await oldNodeVersion();
  const major = Number(version?.slice(1).split('.')[0]);
  if (version === undefined || major >= 24) {
    t.skip(`${OLD_NODE} is ${version ?? 'absent'}: no Node older than 24 to run bin/tartan.js with`);
    return;
  }
  const run = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    execFile(OLD_NODE, [BIN, 'controller', '--help'], { timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
    });
  });
  assert.equal(run.code, 2);
  assert.equal(run.stdout, '');
  const lines = run.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `one line, got:\n${run.stderr}`);
  assert.match(lines[0]!, new RegExp(`needs Node\\.js 24 or newer, found ${version.replaceAll('.', '\\.')}`));
  assert.match(lines[0]!, /npx tartan/);
  assert.match(lines[0]!, /image/);
  assert.doesNotMatch(run.stderr, /ERR_UNKNOWN_FILE_EXTENSION|\n\s+at /);
});

test('bin/tartan.js run by this Node (24) starts the CLI', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, [BIN, '--help'], { timeout: 20_000 });
  assert.match(stdout, /^Usage: tartan <command>/);
});
