import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CniArgs, CniCommand } from './env.ts';
import { CniError } from './errors.ts';
import { type DelegateCommand, type PluginDeps, runPlugin } from './plugin.ts';

const ENV_FILE = '/run/flannel/subnet.env';
const ENV_TEXT = 'FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n';
const RESULT = { cniVersion: '1.0.0', ips: [{ address: '10.244.1.2/24', gateway: '10.244.1.1' }] };

/** Files and a delegate that records its calls; `fail` makes a delegate command fail. */
function fakeDeps(o: { files?: Record<string, string>; fail?: Partial<Record<DelegateCommand, CniError>> } = {}) {
  const files = new Map(Object.entries(o.files ?? { [ENV_FILE]: ENV_TEXT }));
  const calls: { type: string; command: DelegateCommand; config: Record<string, unknown> }[] = [];
  const warnings: string[] = [];
  const deps: PluginDeps = {
    runDelegate: async ({ type, command, config }) => {
      calls.push({ type, command, config: JSON.parse(config) as Record<string, unknown> });
      const failure = o.fail?.[command];
      if (failure) throw failure;
      return command === 'ADD' ? JSON.stringify(RESULT) : '';
    },
    readFile: (path) => files.get(path),
    saveScratch: (dir, id, text) => void files.set(`${dir}/${id}`, text),
    loadScratch: (dir, id) => files.get(`${dir}/${id}`),
    removeScratch: (dir, id) => void files.delete(`${dir}/${id}`),
    warn: (m) => void warnings.push(m),
  };
  return { deps, files, calls, warnings };
}

const errorOf = (stdout: string): { code: number; msg: string } => JSON.parse(stdout) as { code: number; msg: string };
const args = (command: CniCommand): CniArgs => ({ command, containerId: 'c1', netns: '/var/run/netns/p', ifname: 'eth0', path: '/opt/cni/bin' });
const conf = (extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ cniVersion: '1.0.0', name: 'cbr0', type: 'flannel', dataDir: '/d', delegate: { isDefaultGateway: true }, ...extra });
const SAVED = '/d/c1';

describe('runPlugin', () => {
  test('VERSION: 0.3.0 to 1.1.0', async () => {
    const out = await runPlugin(args('VERSION'), '', fakeDeps().deps);
    assert.deepEqual(JSON.parse(out.stdout), { cniVersion: '1.1.0', supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] });
  });

  test('ADD saves the delegate before calling it and prints its result', async () => {
    const f = fakeDeps();
    f.deps.runDelegate = async (o) => {
      assert.ok(f.files.has(SAVED), 'saved before the delegate runs');
      assert.equal(o.type, 'bridge');
      return JSON.stringify(RESULT);
    };
    const out = await runPlugin(args('ADD'), conf(), f.deps);
    assert.deepEqual(out, { exitCode: 0, stdout: JSON.stringify(RESULT) });
    assert.equal((JSON.parse(f.files.get(SAVED)!) as { name: string }).name, 'cbr0');
  });

  test('ADD before subnet.env exists: code 11 naming the file; nothing saved, no delegate called', async () => {
    const f = fakeDeps({ files: {} });
    const out = await runPlugin(args('ADD'), conf(), f.deps);
    assert.equal(out.exitCode, 1);
    const e = JSON.parse(out.stdout) as { cniVersion: string; code: number; msg: string };
    assert.equal(e.code, 11);
    assert.equal(e.cniVersion, '1.0.0');
    assert.match(e.msg, /\/run\/flannel\/subnet\.env does not exist: .*has not written it yet/);
    assert.deepEqual(f.calls, []);
    assert.equal(f.files.has(SAVED), false);
  });

  test("a failed ADD calls the delegate's DEL (its address goes) and forgets the saved config", async () => {
    const f = fakeDeps({ fail: { ADD: new CniError(11, 'failed to allocate for range 0: no IP addresses available') } });
    const out = await runPlugin(args('ADD'), conf(), f.deps);
    assert.deepEqual(JSON.parse(out.stdout), { cniVersion: '1.0.0', code: 11, msg: 'delegate bridge ADD failed: failed to allocate for range 0: no IP addresses available' });
    assert.deepEqual(f.calls.map((c) => c.command), ['ADD', 'DEL']);
    assert.deepEqual(f.calls[1]!.config, f.calls[0]!.config);
    assert.equal(f.files.has(SAVED), false);
  });

  test('a failed ADD whose DEL fails too keeps the saved config for the runtime DEL and says so', async () => {
    const f = fakeDeps({ fail: { ADD: new CniError(999, 'boom'), DEL: new CniError(999, 'netns gone') } });
    const out = await runPlugin(args('ADD'), conf(), f.deps);
    assert.match(errorOf(out.stdout).msg, /ADD failed: boom; its DEL failed too \(netns gone\)/);
    assert.equal(f.files.has(SAVED), true);
  });

  test('DEL goes through the saved config (not the current subnet.env) and removes it', async () => {
    const f = fakeDeps();
    await runPlugin(args('ADD'), conf(), f.deps);
    f.files.delete(ENV_FILE);
    const out = await runPlugin(args('DEL'), conf(), f.deps);
    assert.deepEqual(out, { exitCode: 0, stdout: '' });
    assert.deepEqual(f.calls.map((c) => c.command), ['ADD', 'DEL']);
    assert.deepEqual(f.calls[1]!.config, f.calls[0]!.config);
    assert.equal(f.files.has(SAVED), false);
  });

  const delCases: { description: string; saved?: string; fail?: CniError; exitCode: 0 | 1; calls: number; kept: boolean }[] = [
    { description: 'DEL of an unknown container succeeds without calling the delegate', exitCode: 0, calls: 0, kept: false },
    { description: 'DEL with an unparsable saved config succeeds (as flannel), warning', saved: '{', exitCode: 0, calls: 0, kept: true },
    { description: 'a failed delegate DEL fails and keeps the saved config for the retry', saved: '{"type":"bridge"}', fail: new CniError(999, 'x'), exitCode: 1, calls: 1, kept: true },
  ];
  for (const c of delCases) {
    test(c.description, async () => {
      const f = fakeDeps({ files: c.saved ? { [SAVED]: c.saved } : {}, fail: c.fail ? { DEL: c.fail } : {} });
      const out = await runPlugin(args('DEL'), conf(), f.deps);
      assert.equal(out.exitCode, c.exitCode);
      assert.equal(f.calls.length, c.calls);
      assert.equal(f.files.has(SAVED), c.kept);
    });
  }

  test('CHECK runs the delegate CHECK with the saved config and the prevResult', async () => {
    const f = fakeDeps();
    await runPlugin(args('ADD'), conf(), f.deps);
    const out = await runPlugin(args('CHECK'), conf({ prevResult: RESULT }), f.deps);
    assert.deepEqual(out, { exitCode: 0, stdout: '' });
    assert.deepEqual(f.calls[1], { type: 'bridge', command: 'CHECK', config: { ...f.calls[0]!.config, prevResult: RESULT } });
  });

  const checkCases: { description: string; added: boolean; env?: string; version?: string; code: number; msg: RegExp }[] = [
    { description: 'CHECK of a container never added: code 3', added: false, code: 3, msg: /\/d\/c1 does not exist/ },
    { description: "CHECK after the host's subnet changed", added: true, env: ENV_TEXT.replace('10.244.1.1/24', '10.244.9.1/24'), code: 999, msg: /10\.244\.1\.0\/24.*10\.244\.9\.0\/24.*lease changed/ },
    { description: 'CHECK with a 0.3.1 config is not allowed', added: true, version: '0.3.1', code: 1, msg: /"0\.3\.1" does not allow CHECK/ },
  ];
  for (const c of checkCases) {
    test(c.description, async () => {
      const f = fakeDeps();
      if (c.added) await runPlugin(args('ADD'), conf(), f.deps);
      if (c.env) f.files.set(ENV_FILE, c.env);
      const out = await runPlugin(args('CHECK'), conf(c.version ? { cniVersion: c.version } : {}), f.deps);
      const e = JSON.parse(out.stdout) as { code: number; msg: string };
      assert.equal(e.code, c.code);
      assert.match(e.msg, c.msg);
    });
  }

  const statusCases: { description: string; files: Record<string, string>; version: string; exitCode: 0 | 1; code?: number; msg?: RegExp }[] = [
    { description: 'STATUS ready once subnet.env is there', files: { [ENV_FILE]: ENV_TEXT }, version: '1.1.0', exitCode: 0 },
    { description: 'STATUS before subnet.env: 50 naming the file', files: {}, version: '1.1.0', exitCode: 1, code: 50, msg: /subnet\.env does not exist/ },
    { description: 'STATUS with an incomplete subnet.env: 50 naming the variable', files: { [ENV_FILE]: 'FLANNEL_NETWORK=10.1.0.0/16\n' }, version: '1.1.0', exitCode: 1, code: 50, msg: /FLANNEL_SUBNET/ },
    { description: 'STATUS needs a 1.1.0 config', files: { [ENV_FILE]: ENV_TEXT }, version: '1.0.0', exitCode: 1, code: 1, msg: /does not allow STATUS/ },
  ];
  for (const c of statusCases) {
    test(c.description, async () => {
      const out = await runPlugin(args('STATUS'), conf({ cniVersion: c.version }), fakeDeps({ files: c.files }).deps);
      assert.equal(out.exitCode, c.exitCode);
      if (c.code === undefined) return assert.equal(out.stdout, '');
      const e = JSON.parse(out.stdout) as { code: number; msg: string };
      assert.equal(e.code, c.code);
      assert.match(e.msg, c.msg!);
    });
  }

  test('an unsupported cniVersion: code 1 naming it', async () => {
    const out = await runPlugin(args('ADD'), conf({ cniVersion: '0.2.0' }), fakeDeps().deps);
    assert.match(errorOf(out.stdout).msg, /cniVersion: "0\.2\.0" is not supported/);
  });
});
