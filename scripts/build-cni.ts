// `npm run build:cni`: tartan's CNI plugin as one self-contained executable, dist/cni/tartan-cni.
// A container runtime runs the plugin on the host, where there is no Node and no node_modules,
// so the plugin is a Node single executable application (SEA): esbuild bundles src/cni (and
// only what it imports: no etcd3, no cloud SDK, no client-node, no pino) into one CommonJS
// file, `node --experimental-sea-config` turns it into a blob with V8's code cache (the
// runtime starts the plugin once per pod and command: start-up is its cost), and postject
// injects the blob into a copy of the node binary (node_modules/node, the same Node that made
// the blob: the code cache is only valid for it). postject's "Can't find string offset for
// section name '.note…'" lines on stderr are its ELF library's, harmless.
//
// Run it after `npm run build`, which empties dist/. `tartan install-cni` finds the executable
// at dist/cni/tartan-cni beside the built CLI.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build as esbuild } from 'esbuild';
import { versionJson } from '../src/cni/version.ts';

export const CNI_EXECUTABLE = 'tartan-cni';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Node's documented fuse: the SEA code in the binary looks for it flipped to :1. */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
/** The only packages the plugin may carry; anything else in the bundle fails the build. */
const ALLOWED_PACKAGES = ['node_modules/ipaddr.js/'];

interface Postject {
  readonly inject: (file: string, resource: string, data: Buffer, options: { sentinelFuse: string }) => Promise<void>;
}

/** The node binary to copy: node_modules/node (Node 24), else the one running this script. */
function nodeBinary(): string {
  const pinned = join(ROOT, 'node_modules', 'node', 'bin', 'node');
  return realpathSync(existsSync(pinned) ? pinned : process.execPath);
}

/** Bundles the plugin into `file` (CommonJS) and checks that nothing but src/ and the allowed packages went in. */
export async function bundleCniPlugin(file: string): Promise<void> {
  const result = await esbuild({
    absWorkingDir: ROOT,
    // A SEA's main script is CommonJS.
    entryPoints: ['src/cni/executable.ts'],
    outfile: file,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node24',
    minify: true,
    metafile: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  const foreign = Object.keys(result.metafile.inputs)
    .filter((input) => !input.startsWith('src/') && !ALLOWED_PACKAGES.some((p) => input.startsWith(p)));
  if (foreign.length > 0) {
    throw new Error(`the CNI plugin bundle pulls in ${foreign.join(', ')}: it may carry only src/ and ${ALLOWED_PACKAGES.join(', ')} (start-up cost, no node_modules on the host)`);
  }
}

/** Builds the executable into `outDir` (created; a previous executable is replaced atomically); returns its path. */
export async function buildCniExecutable(outDir: string): Promise<string> {
  const work = mkdtempSync(join(tmpdir(), 'tartan-build-cni-'));
  try {
    const bundle = join(work, 'plugin.cjs');
    const blob = join(work, 'plugin.blob');
    await bundleCniPlugin(bundle);
    const config = join(work, 'sea-config.json');
    // execArgvExtension none: NODE_OPTIONS in the runtime's environment does not reach the plugin.
    // useSnapshot was measured slower to start here than the code cache (a custom snapshot
    // replaces Node's built-in one), so it stays off.
    writeFileSync(config, JSON.stringify({ main: bundle, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true, execArgvExtension: 'none' }));
    const node = nodeBinary();
    execFileSync(node, ['--experimental-sea-config', config], { stdio: ['ignore', 'pipe', 'inherit'] });
    // Alone in a directory of its own: the check below proves it needs nothing beside it.
    mkdirSync(join(work, 'alone'));
    const exe = join(work, 'alone', CNI_EXECUTABLE);
    copyFileSync(node, exe);
    chmodSync(exe, 0o755);
    const { inject } = createRequire(import.meta.url)('postject') as Postject;
    await inject(exe, 'NODE_SEA_BLOB', readFileSync(blob), { sentinelFuse: SEA_FUSE });
    checkAnswersVersion(exe);
    mkdirSync(outDir, { recursive: true });
    const out = join(outDir, CNI_EXECUTABLE);
    copyFileSync(exe, `${out}.tmp`);
    chmodSync(`${out}.tmp`, 0o755);
    renameSync(`${out}.tmp`, out);
    return out;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The built executable, alone in its directory and run there with nothing but CNI_COMMAND=VERSION, must print the plugin's VERSION answer. */
function checkAnswersVersion(exe: string): void {
  const out = execFileSync(exe, [], { cwd: dirname(exe), env: { CNI_COMMAND: 'VERSION' }, encoding: 'utf8' }).trim();
  if (out !== versionJson()) throw new Error(`${exe} answered VERSION with ${JSON.stringify(out)}, not ${versionJson()}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = await buildCniExecutable(join(ROOT, 'dist', 'cni'));
  console.log(`built ${relative(process.cwd(), out) || out}`);
}
