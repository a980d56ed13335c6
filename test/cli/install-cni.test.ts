// `tartan install-cni` as the DaemonSet's init container runs it (a process, temp dirs for
// the host's /opt/cni/bin and /etc/cni/net.d): both names installed and executable, the
// conflist byte for byte, nothing else left behind; a replaced file keeps its old content
// until the rename (a reader never sees a partial file); a bad conflist is refused and the
// installed one kept; a missing plugin is named; a second run changes nothing.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { closeSync, fstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAIN } from '../lab/agents.ts';

const dir = mkdtempSync(join(tmpdir(), 'tartan-install-cni-'));
const KUBE_FLANNEL = '{\n  "name": "cbr0",\n  "cniVersion": "0.3.1",\n  "plugins": [\n    { "type": "flannel", "delegate": { "hairpinMode": true, "isDefaultGateway": true } },\n' +
  '    { "type": "portmap", "capabilities": { "portMappings": true } }\n  ]\n}\n';

interface Run { readonly code: number; readonly stdout: string; readonly stderr: string }

/** The message of the CLI's fatal JSON line on stderr. */
const fatal = (r: Run): string => (JSON.parse(r.stderr.trim().split('\n').at(-1) ?? '{}') as { msg?: string }).msg ?? r.stderr;

function installCni(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, 'install-cni', ...args], { timeout: 60_000, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

/** A fake plugin executable: a marker line, then padding to `size` bytes. */
function fakePlugin(path: string, marker: string, size: number): Buffer {
  const head = `#!/bin/sh\n# ${marker}\n`;
  const bytes = Buffer.concat([Buffer.from(head), Buffer.alloc(size - head.length, 0x23)]);
  writeFileSync(path, bytes, { mode: 0o755 });
  return bytes;
}

/** A node's dirs, the plugin and the ConfigMap's cni-conf.json, under `dir/<name>`. */
function node(name: string, conflist = KUBE_FLANNEL): { bin: string; conf: string; cfg: string; plugin: string; args: string[] } {
  const root = join(dir, name);
  const [bin, conf, cfg] = [join(root, 'opt/cni/bin'), join(root, 'etc/cni/net.d'), join(root, 'kube-flannel/cni-conf.json')];
  mkdirSync(join(root, 'kube-flannel'), { recursive: true });
  writeFileSync(cfg, conflist);
  const plugin = join(root, 'tartan-cni');
  return { bin, conf, cfg, plugin, args: ['--cni-bin-dir', bin, '--cni-conf-dir', conf, '--cni-conf', cfg, '--cni-plugin', plugin] };
}

const snapshot = (d: string): Record<string, { mode: number; bytes: string }> =>
  Object.fromEntries(readdirSync(d).sort().map((f) => {
    const s = statSync(join(d, f));
    return [f, { mode: s.mode & 0o777, bytes: readFileSync(join(d, f)).toString('base64') }];
  }));

describe('tartan install-cni (process, temp dirs)', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('installs the plugin as flannel and tartan (0755, same bytes) and the conflist (0644, same bytes); nothing else; a re-run changes nothing', async () => {
    const n = node('fresh');
    const plugin = fakePlugin(n.plugin, 'v1', 4096);
    const first = await installCni(n.args);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /installed .*\/opt\/cni\/bin\/flannel, .*\/opt\/cni\/bin\/tartan, .*\/etc\/cni\/net\.d\/10-flannel\.conflist/);
    const bins = snapshot(n.bin);
    assert.deepEqual(Object.keys(bins), ['flannel', 'tartan']);
    for (const name of ['flannel', 'tartan']) assert.deepEqual(bins[name], { mode: 0o755, bytes: plugin.toString('base64') }, name);
    assert.deepEqual(snapshot(n.conf), { '10-flannel.conflist': { mode: 0o644, bytes: Buffer.from(KUBE_FLANNEL).toString('base64') } });
    const again = await installCni(n.args);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(snapshot(n.bin), bins);
    assert.deepEqual(snapshot(n.conf), { '10-flannel.conflist': { mode: 0o644, bytes: Buffer.from(KUBE_FLANNEL).toString('base64') } });
  });

  test('TARTAN_CNI_CONF_NAME (every flag reads TARTAN_*): the conflist under another name', async () => {
    const n = node('named');
    fakePlugin(n.plugin, 'v1', 1024);
    const r = await installCni(n.args, { TARTAN_CNI_CONF_NAME: '05-tartan.conflist' });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readdirSync(n.conf), ['05-tartan.conflist']);
  });

  test('a replaced file holds its old content until the rename: a reader sees the whole old or the whole new plugin, never part', async () => {
    const n = node('replace');
    const oldBytes = fakePlugin(n.plugin, 'old', 1 << 20);
    assert.equal((await installCni(n.args)).code, 0);
    const flannel = join(n.bin, 'flannel');
    const held = openSync(flannel, 'r'); // what a running plugin has open
    const oldIno = statSync(flannel).ino;
    const newBytes = fakePlugin(n.plugin, 'new', 64 << 20);
    const seen = new Map<string, number>();
    let running = true;
    const done = installCni(n.args).finally(() => { running = false; });
    const head = Buffer.alloc(16);
    while (running) {
      try {
        const fd = openSync(flannel, 'r');
        try {
          readSync(fd, head, 0, 16, 0);
          // The size of the file this fd reads (a stat by path could already see the renamed new one).
          const size = fstatSync(fd).size;
          const key = `${head.toString('latin1').split('\n')[1]} ${size}`;
          seen.set(key, (seen.get(key) ?? 0) + 1);
        } finally {
          closeSync(fd);
        }
      } catch (err) {
        seen.set(`error ${(err as Error).message}`, 1);
      }
      await new Promise((r) => setImmediate(r));
    }
    const r = await done;
    assert.equal(r.code, 0, r.stderr);
    const allowed = new Set([`# old ${oldBytes.length}`, `# new ${newBytes.length}`]);
    assert.ok(seen.size > 0);
    assert.deepEqual([...seen.keys()].filter((k) => !allowed.has(k)), [], `observations: ${JSON.stringify([...seen])}`);
    assert.ok(seen.has(`# old ${oldBytes.length}`), 'the old plugin was seen while the new one was copied');
    assert.ok(readFileSync(flannel).equals(newBytes));
    assert.notEqual(statSync(flannel).ino, oldIno, 'a new file, renamed into place');
    const buf = Buffer.alloc(oldBytes.length);
    assert.equal(readSync(held, buf, 0, buf.length, 0), oldBytes.length);
    closeSync(held);
    assert.ok(buf.equals(oldBytes), 'a process holding the old plugin still reads the old bytes');
    assert.deepEqual(readdirSync(n.bin).sort(), ['flannel', 'tartan'], 'no temp file left');
  });

  const badConflists: { description: string; text: string; error: RegExp }[] = [
    { description: 'not JSON', text: '{"name": "cbr0", "plugins": [', error: /cni-conf\.json: is not JSON/ },
    { description: 'no plugins list', text: '{"name":"cbr0","type":"flannel"}', error: /cni-conf\.json: plugins: must be a non-empty list/ },
    { description: 'no flannel plugin', text: '{"name":"cbr0","plugins":[{"type":"bridge"}]}', error: /cni-conf\.json: plugins: has no plugin of type "flannel"/ },
  ];
  for (const c of badConflists) {
    test(`a bad conflist (${c.description}) is refused, exit 2 naming file and key; the installed conflist and plugins stay`, async () => {
      const n = node(`bad-${c.description.replaceAll(' ', '-')}`);
      fakePlugin(n.plugin, 'v1', 2048);
      assert.equal((await installCni(n.args)).code, 0);
      const before = { bin: snapshot(n.bin), conf: snapshot(n.conf) };
      writeFileSync(n.cfg, c.text);
      fakePlugin(n.plugin, 'v2', 2048);
      const r = await installCni(n.args);
      assert.equal(r.code, 2, r.stderr);
      assert.match(fatal(r), c.error);
      assert.ok(fatal(r).startsWith(`${n.cfg}: `), 'names the file');
      assert.deepEqual({ bin: snapshot(n.bin), conf: snapshot(n.conf) }, before);
    });
  }

  test('a missing plugin executable: exit 2 naming the path and how to build it; nothing written', async () => {
    const n = node('missing');
    const r = await installCni(n.args);
    assert.equal(r.code, 2, r.stderr);
    assert.match(fatal(r), /^--cni-plugin: does not exist: build the plugin executable with `npm run build:cni`/);
    assert.ok(fatal(r).endsWith(`(got ${JSON.stringify(n.plugin)})`), 'names the path');
    assert.throws(() => readdirSync(n.bin), /ENOENT/);
  });

  test('-h prints the flags and touches nothing', async () => {
    const n = node('help');
    const r = await installCni([...n.args, '-h']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^Usage: tartan install-cni \[flags\][\s\S]*--cni-bin-dir[\s\S]*--cni-plugin <string>[\s\S]*dist\/cni\/tartan-cni/);
    assert.throws(() => readdirSync(n.bin), /ENOENT/);
  });
});
