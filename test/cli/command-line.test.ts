// The command line as a process (node src/cli/main.ts …): help anywhere wins and
// touches nothing; bad flags exit 2 at once naming the flag and value; a password in
// an etcd URL never reaches stderr; Node's and libraries' warnings are JSON lines.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../support/ports.ts';
import { collectOutput, spawnTracked, stopChild } from '../support/process.ts';
import { waitFor } from '../support/wait.ts';

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'tartan-cli-'));
const configFile = join(dir, 'net-conf.json');
writeFileSync(configFile, JSON.stringify({ Network: '10.99.0.0/16', Backend: { Type: 'aws-vpc' } }));

interface Run { readonly code: number; readonly stdout: string; readonly stderr: string; readonly ms: number }

function tartan(args: readonly string[], timeout = 20_000): Promise<Run> {
  const started = Date.now();
  const env = { ...process.env, TARTAN_TEST_ETCD: undefined, AWS_ACCESS_KEY_ID: 'AKIDCLI', AWS_SECRET_ACCESS_KEY: 'secret' };
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { timeout, env }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr, ms: Date.now() - started });
    });
  });
}

const jsonLines = (text: string): unknown[] => text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as unknown);

describe('tartan command line (as a process)', () => {
  for (const command of ['agent', 'controller', 'audit'] as const) {
    test(`${command}: -h in the middle prints its help, exits 0 and touches nothing`, async () => {
      const subnetFile = join(dir, `${command}-subnet.env`);
      const flags = command === 'agent' ? ['--subnet-file', subnetFile, '--net-config-path', configFile] : ['--net-config-path', configFile];
      const r = await tartan([command, '--etcd-endpoints', 'http://127.0.0.1:1', ...flags, '-h', '--no-such-flag', 'stray']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^Usage: tartan ${command} \\[flags\\]`));
      assert.match(r.stdout, /-h, --help/);
      assert.equal(r.stderr, '', 'nothing logged: nothing ran');
      assert.equal(existsSync(subnetFile), false);
    });
  }

  const refused: { description: string; args: string[]; mentions: string[] }[] = [
    { description: 'agent --resync-period 1000h (would wrap setTimeout to 1 ms)', args: ['agent', '--resync-period', '1000h'], mentions: ['--resync-period', '1000h'] },
    { description: 'controller --resync-period 1000h', args: ['controller', '--resync-period', '1000h'], mentions: ['--resync-period', '1000h'] },
    { description: 'audit --timeout 1000h', args: ['audit', '--timeout', '1000h'], mentions: ['--timeout', '1000h'] },
    { description: 'agent --subnet-file under /proc', args: ['agent', '--subnet-file', '/proc/x', '--net-config-path', configFile], mentions: ['--subnet-file', '/proc/x'] },
    { description: 'agent --subnet-file a directory', args: ['agent', '--subnet-file', dir], mentions: ['--subnet-file', dir] },
    { description: 'docker-opts --docker-opts-file under /sys', args: ['docker-opts', '--docker-opts-file', '/sys/kernel/x'], mentions: ['--docker-opts-file', '/sys/kernel/x'] },
    { description: 'agent renew margin not below the TTL', args: ['agent', '--subnet-lease-ttl', '30m', '--subnet-lease-renew-margin', '60'], mentions: ['--subnet-lease-renew-margin', '--subnet-lease-ttl 30m', '60'] },
    { description: 'a stray word', args: ['controller', 'now'], mentions: ['stray word', 'now'] },
    { description: 'a negated boolean given a value', args: ['controller', '--no-force-deletions=false'], mentions: ['--no-force-deletions', 'false'] },
  ];
  for (const c of refused) {
    test(`exit 2 at once, naming the flag: ${c.description}`, async () => {
      const r = await tartan(c.args);
      assert.equal(r.code, 2, r.stderr);
      for (const m of c.mentions) assert.ok(r.stderr.includes(m), `stderr names ${m}: ${r.stderr}`);
      assert.ok(r.ms < 10_000, `took ${r.ms} ms`);
    });
  }

  test('a password in an etcd endpoint or --etcd-password never appears on stderr', async () => {
    const port = await freePort();
    const bad = await tartan(['controller', '--etcd-endpoints', 'http://user:hunter2@[::1']);
    assert.equal(bad.code, 2);
    assert.doesNotMatch(bad.stderr, /hunter2/);
    const audit = await tartan(['audit', '--etcd-endpoints', `http://user:hunter2@127.0.0.1:${port}`, '--provider', 'none', '--timeout', '3s']);
    assert.equal(audit.code, 2, audit.stderr);
    assert.doesNotMatch(audit.stderr + audit.stdout, /hunter2/);

    const child = spawnTracked(process.execPath, [MAIN, 'controller', '--etcd-endpoints', `http://user:hunter2@127.0.0.1:${port}`,
      '--etcd-username', 'root', '--etcd-password', 'pw-s3cret', '--net-config-path', configFile, '--region', 'us-east-1', '--log-level', 'debug']);
    const output = collectOutput(child);
    try {
      await waitFor('the controller to try etcd', () => /election attempt failed|"level":"fatal"/.test(output.text()) || child.exitCode !== null, { timeoutMs: 20_000, details: output.text });
    } finally {
      await stopChild(child);
    }
    assert.doesNotMatch(output.text(), /hunter2|pw-s3cret/, output.text());
  });

  test("Node's warnings and a library's console.warn become JSON log lines", async () => {
    // Emitted once main has taken over console.warn, while the controller retries etcd.
    const preload = `data:text/javascript,const w=console.warn;const t=setInterval(()=>{if(console.warn===w)return;clearInterval(t);`
      + `process.emitWarning('Buffer() is deprecated','DeprecationWarning','DEP0005');setTimeout(()=>{},2**31);console.warn('[WARN] an SDK says so')},5);t.unref()`;
    const port = await freePort();
    const child = spawnTracked(process.execPath, ['--import', preload, MAIN, 'controller', '--etcd-endpoints', `http://127.0.0.1:${port}`,
      '--net-config-path', configFile, '--region', 'us-east-1']);
    const output = collectOutput(child);
    try {
      await waitFor('the warnings', () => output.text().includes('an SDK says so') && output.text().includes('TimeoutOverflowWarning'), { timeoutMs: 20_000, details: output.text });
    } finally {
      await stopChild(child);
    }
    const lines = jsonLines(output.text()) as { msg?: string; code?: string; warning?: string }[];
    assert.ok(lines.some((l) => l.code === 'DEP0005' && l.warning === 'DeprecationWarning'));
    assert.ok(lines.some((l) => l.warning === 'TimeoutOverflowWarning'));
    assert.ok(lines.some((l) => l.msg === '[WARN] an SDK says so'));
  });
});
