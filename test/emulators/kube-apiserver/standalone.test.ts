// `node test/emulators/kube-apiserver --port N --etcd URL`: the directory entry
// starts the emulator in its own process, writes an admin kubeconfig that
// kubectl uses as is, and stops on SIGTERM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { sharedEtcd, uniquePrefix } from '../../support/etcd.ts';
import { freePort } from '../../support/ports.ts';
import { collectOutput, spawnTracked, stopChild } from '../../support/process.ts';
import { eventually } from './fixture.ts';

test('standalone emulator process with kubectl', async () => {
  const etcd = await sharedEtcd();
  const port = await freePort();
  const kubeconfig = join(mkdtempSync(join(tmpdir(), 'tartan-kube-solo-')), 'kubeconfig');
  const child = spawnTracked(process.execPath, ['test/emulators/kube-apiserver', '--port', String(port), '--etcd', etcd.endpoint, '--prefix', uniquePrefix('kube-solo'), '--kubeconfig', kubeconfig]);
  try {
    const output = collectOutput(child);
    await eventually(() => output.lines.length > 0 || child.exitCode !== null, 15_000, 'the emulator to print its endpoint');
    assert.equal(child.exitCode, null, output.text());
    const first = output.lines[0]!;
    const printed = JSON.parse(first) as { endpoint: string; kubeconfig: string };
    assert.deepEqual([printed.endpoint, printed.kubeconfig], [`https://127.0.0.1:${port}`, kubeconfig]);
    const run = (args: string[]): Promise<{ stdout: string }> => promisify(execFile)('kubectl', ['--kubeconfig', kubeconfig, ...args]);
    assert.match((await run(['version', '-o', 'json'])).stdout, /"gitVersion": "v1\.33\.0"/);
    assert.deepEqual((await run(['get', 'namespaces', '-o', 'name'])).stdout.trim().split('\n').sort(),
      ['namespace/default', 'namespace/kube-node-lease', 'namespace/kube-public', 'namespace/kube-system']);
  } finally {
    assert.equal(await stopChild(child, 'SIGTERM'), 0);
    await etcd.close();
  }
});
