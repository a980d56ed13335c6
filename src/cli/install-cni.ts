// `tartan install-cni`: the DaemonSet's init container. It does what kube-flannel's two init
// containers do (`cp -f /flannel /opt/cni/bin/flannel` and install-conf's atomic copy of
// cni-conf.json into /etc/cni/net.d/10-flannel.conflist) in one command: the plugin executable
// (npm run build:cni, beside the CLI in the image) goes into the CNI bin dir as `flannel` and
// as `tartan`, the conflist into the CNI conf dir. Every file is written to a temp file in its
// own directory, fsynced and renamed over the old one, so the runtime never sees half a file
// (and a running plugin keeps its old inode). The conflist is checked before anything is
// written: a bad one is refused and the installed one stays.
import { chmodSync, closeSync, copyFileSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { regularFilePath } from '../config/checks.ts';
import { parseCommandLine } from '../config/command-line.ts';
import { flagTable } from '../config/flags.ts';
import { parseConflist } from '../cni/conflist.ts';
import { InvalidInputError } from '../errors.ts';

/** Where the plugin executable sits relative to the built CLI (dist/main.js → dist/cni/tartan-cni). */
export const PLUGIN_IN_DIST = 'cni/tartan-cni';

/**
 * The plugin executable beside the CLI that runs this module: from the bundle in dist/ it is
 * dist/cni/tartan-cni; from the TypeScript source (src/cli/) it is the checkout's dist/cni/tartan-cni.
 */
export function defaultPluginPath(moduleUrl: string): string {
  const fromSource = moduleUrl.endsWith('.ts');
  return fileURLToPath(new URL(fromSource ? `../../dist/${PLUGIN_IN_DIST}` : `./${PLUGIN_IN_DIST}`, moduleUrl));
}

const fileName = (value: string): string | undefined =>
  value.includes('/') || value === '.' || value === '..' ? 'must be a file name, not a path' : undefined;

export const INSTALL_CNI_FLAGS = flagTable([
  { name: 'cni-bin-dir', type: 'string', default: '/opt/cni/bin', help: 'CNI bin dir: the plugin goes here as flannel and as tartan' },
  { name: 'cni-conf-dir', type: 'string', default: '/etc/cni/net.d', help: 'CNI conf dir: the conflist goes here' },
  { name: 'cni-conf', type: 'string', default: '/etc/kube-flannel/cni-conf.json', check: regularFilePath, help: "the conflist to install (kube-flannel's cni-conf.json); checked first" },
  { name: 'cni-conf-name', type: 'string', default: '10-flannel.conflist', check: fileName, help: 'file name of the conflist in --cni-conf-dir' },
  { name: 'cni-plugin', type: 'string', check: regularFilePath, help: `the plugin executable to install (default: ${PLUGIN_IN_DIST} beside the built CLI, i.e. dist/${PLUGIN_IN_DIST} of a checkout; npm run build:cni)` },
]);

export const INSTALL_CNI_SUMMARY = "Installs tartan's CNI plugin executable (as flannel and tartan) and the conflist, each atomically, as kube-flannel's init containers do.";

export const INSTALL_CNI_COMMAND = { name: 'install-cni', summary: INSTALL_CNI_SUMMARY, flags: INSTALL_CNI_FLAGS };

export interface InstallFile {
  /** The file written; its temp file is `.<name>.tartan-tmp` beside it. */
  readonly to: string;
  /** Copied from this file… */
  readonly from?: string | undefined;
  /** …or these bytes. */
  readonly text?: string | undefined;
  readonly mode: number;
}

export interface InstallInput {
  readonly binDir: string;
  readonly confDir: string;
  readonly confName: string;
  readonly plugin: string;
  readonly conflist: { readonly path: string; readonly text: string };
}

/** What to write, in order (plugins first: the conflist must never name a plugin that is not there yet). Throws for a bad conflist. */
export function planInstall(o: InstallInput): InstallFile[] {
  parseConflist(o.conflist.path, o.conflist.text);
  return [
    { to: join(o.binDir, 'flannel'), from: o.plugin, mode: 0o755 },
    { to: join(o.binDir, 'tartan'), from: o.plugin, mode: 0o755 },
    { to: join(o.confDir, o.confName), text: o.conflist.text, mode: 0o644 },
  ];
}

export function tempPathOf(to: string): string {
  return join(dirname(to), `.${basename(to)}.tartan-tmp`);
}

/** Writes `f` to its temp file, fsyncs it, renames it over `f.to` and fsyncs the directory. */
export function installFile(f: InstallFile): void {
  const tmp = tempPathOf(f.to);
  mkdirSync(dirname(f.to), { recursive: true, mode: 0o755 });
  try {
    if (f.from !== undefined) copyFileSync(f.from, tmp);
    else writeAll(tmp, f.text ?? '');
    chmodSync(tmp, f.mode);
    fsyncPath(tmp, 'r+');
    renameSync(tmp, f.to);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw new Error(`cannot install ${f.to}${f.from === undefined ? '' : ` from ${f.from}`}: ${(err as Error).message}`, { cause: err });
  }
  fsyncPath(dirname(f.to), 'r');
}

function writeAll(path: string, text: string): void {
  const fd = openSync(path, 'w', 0o600);
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}

function fsyncPath(path: string, flags: 'r' | 'r+'): void {
  const fd = openSync(path, flags);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export async function runInstallCni(argv: readonly string[]): Promise<number> {
  const line = parseCommandLine(INSTALL_CNI_COMMAND, argv, process.env);
  if (line.help !== undefined) {
    process.stdout.write(line.help);
    return 0;
  }
  const v = line.options;
  const plugin = v['cni-plugin'] ?? defaultPluginPath(import.meta.url);
  if (!isFile(plugin)) {
    throw new InvalidInputError('--cni-plugin', plugin, 'does not exist: build the plugin executable with `npm run build:cni` (after `npm run build`), or name it');
  }
  const confPath = v['cni-conf'];
  if (!isFile(confPath)) throw new InvalidInputError('--cni-conf', confPath, 'does not exist (kube-flannel mounts its ConfigMap there)');
  const plan = planInstall({
    binDir: v['cni-bin-dir'], confDir: v['cni-conf-dir'], confName: v['cni-conf-name'], plugin,
    conflist: { path: confPath, text: readFileSync(confPath, 'utf8') },
  });
  for (const f of plan) installFile(f);
  process.stdout.write(`tartan install-cni: installed ${plan.map((f) => f.to).join(', ')}\n`);
  return 0;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
