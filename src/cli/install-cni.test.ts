import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCommandLine } from '../config/command-line.ts';
import { InvalidInputError } from '../errors.ts';
import { INSTALL_CNI_COMMAND, defaultPluginPath, planInstall, tempPathOf } from './install-cni.ts';

const CONFLIST = '{"name":"cbr0","cniVersion":"0.3.1","plugins":[{"type":"flannel"},{"type":"portmap","capabilities":{"portMappings":true}}]}';
const input = { binDir: '/opt/cni/bin', confDir: '/etc/cni/net.d', confName: '10-flannel.conflist', plugin: '/opt/tartan/dist/cni/tartan-cni' };

describe('install-cni', () => {
  test('defaultPluginPath: beside the bundled CLI, or the checkout\'s dist/ when run from the source', () => {
    assert.equal(defaultPluginPath('file:///opt/tartan/dist/install-cni-ABC123.js'), '/opt/tartan/dist/cni/tartan-cni');
    assert.equal(defaultPluginPath('file:///work/tartan/src/cli/install-cni.ts'), '/work/tartan/dist/cni/tartan-cni');
  });

  test('the flags: defaults as kube-flannel installs (bin dir, conf dir, cni-conf.json, 10-flannel.conflist)', () => {
    const line = parseCommandLine(INSTALL_CNI_COMMAND, [], {});
    assert.ok(line.help === undefined);
    const o = line.options;
    assert.deepEqual([o['cni-bin-dir'], o['cni-conf-dir'], o['cni-conf'], o['cni-conf-name']],
      ['/opt/cni/bin', '/etc/cni/net.d', '/etc/kube-flannel/cni-conf.json', '10-flannel.conflist']);
    assert.equal(o['cni-plugin'], undefined, 'the default is found at run time, beside the CLI (see defaultPluginPath)');
    const env = parseCommandLine(INSTALL_CNI_COMMAND, ['--cni-bin-dir', '/host/opt/cni/bin'], { TARTAN_CNI_CONF_DIR: '/host/etc/cni/net.d' });
    assert.ok(env.help === undefined);
    assert.deepEqual([env.options['cni-bin-dir'], env.options['cni-conf-dir']], ['/host/opt/cni/bin', '/host/etc/cni/net.d']);
  });

  test('--cni-conf-name must be a file name', () => {
    assert.throws(() => parseCommandLine(INSTALL_CNI_COMMAND, ['--cni-conf-name', '../10-flannel.conflist'], {}),
      /--cni-conf-name: must be a file name, not a path \(got "\.\.\/10-flannel\.conflist"\)/);
  });

  test('planInstall: the plugin as flannel and tartan first, then the conflist (its checked text), modes 755 and 644', () => {
    const plan = planInstall({ ...input, conflist: { path: '/etc/kube-flannel/cni-conf.json', text: CONFLIST } });
    assert.deepEqual(plan, [
      { to: '/opt/cni/bin/flannel', from: input.plugin, mode: 0o755 },
      { to: '/opt/cni/bin/tartan', from: input.plugin, mode: 0o755 },
      { to: '/etc/cni/net.d/10-flannel.conflist', text: CONFLIST, mode: 0o644 },
    ]);
  });

  test('planInstall refuses a bad conflist, naming the file and key, before planning any write', () => {
    assert.throws(() => planInstall({ ...input, conflist: { path: '/cfg/cni-conf.json', text: '{"name":"cbr0","plugins":[{"type":"bridge"}]}' } }),
      (err: unknown) => err instanceof InvalidInputError && /^\/cfg\/cni-conf\.json: plugins: has no plugin of type "flannel"/.test(err.message));
  });

  test('the temp file is hidden beside its target (same directory: rename is atomic)', () => {
    assert.equal(tempPathOf('/opt/cni/bin/flannel'), '/opt/cni/bin/.flannel.tartan-tmp');
  });
});
