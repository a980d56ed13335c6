import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { takeHostLock } from './host-lock.ts';

test('host lock: one agent per subnet file; a live holder is named, a dead one is taken over', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tartan-lock-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'subnet.env');
  const lock = takeHostLock(file);
  assert.equal(readFileSync(`${file}.lock`, 'utf8'), `${process.pid}\n`);
  // Another agent (any other PID) finds this live process holding it.
  assert.throws(() => takeHostLock(file, process.pid + 1_000_000), new RegExp(`another tartan agent \\(PID ${process.pid}\\) runs on this host`));
  lock.release();
  assert.equal(existsSync(`${file}.lock`), false);
  // A stale lock (a PID that does not exist) is taken over.
  writeFileSync(`${file}.lock`, '2147483646\n');
  const again = takeHostLock(file);
  assert.equal(readFileSync(`${file}.lock`, 'utf8'), `${process.pid}\n`);
  again.release();
});
