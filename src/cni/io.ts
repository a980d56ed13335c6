// The plugin's real I/O: files (subnet.env, the saved delegate configs under dataDir) and
// the delegate plugin, run as a runtime runs a plugin (libcni invoke): found on CNI_PATH,
// the caller's CNI_* environment with CNI_COMMAND set, the config on stdin.
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { CniCode, CniError } from './errors.ts';
import { isObject } from './netconf.ts';
import type { DelegateCommand, PluginDeps } from './plugin.ts';

/** Longer than any ADD should take; a hung delegate must not hold the runtime's pod forever. */
const DELEGATE_TIMEOUT_MS = 120_000;

export function realDeps(env: Readonly<NodeJS.ProcessEnv>, cniPath: string): PluginDeps {
  return {
    runDelegate: (o) => runDelegate({ ...o, env, cniPath }),
    readFile: (path) => readText(path),
    saveScratch: (dir, id, text) => saveScratch(dir, id, text),
    loadScratch: (dir, id) => readText(join(dir, id)),
    removeScratch: (dir, id) => rmSync(join(dir, id), { force: true }),
    warn: (message) => writeSync(2, `tartan cni: ${message}\n`),
  };
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CniError(CniCode.ioFailure, `cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
}

function saveScratch(dir: string, id: string, text: string): void {
  const path = join(dir, id);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const fd = openSync(path, 'w', 0o600);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    throw new CniError(CniCode.ioFailure, `cannot save the delegate config to ${path}: ${(err as Error).message}`, { cause: err });
  }
}

export function findPlugin(type: string, cniPath: string): string {
  const dirs = cniPath.split(':').filter((d) => d !== '');
  if (type === '' || type.includes('/')) throw new CniError(CniCode.invalidConfig, `delegate type ${JSON.stringify(type)} is not a plugin name`);
  for (const dir of dirs) {
    const candidate = join(dir, type);
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch { /* not in this directory: try the next */ }
  }
  throw new CniError(CniCode.internal, `delegate plugin ${JSON.stringify(type)} not found in CNI_PATH ${JSON.stringify(cniPath)}`);
}

async function runDelegate(o: { type: string; command: DelegateCommand; config: string; env: Readonly<NodeJS.ProcessEnv>; cniPath: string }): Promise<string> {
  const file = findPlugin(o.type, o.cniPath);
  // Loaded here, not at the top: child_process costs ~3.5 ms of start-up that VERSION,
  // STATUS, GC and a DEL of an unknown container never need.
  const { spawn } = await import('node:child_process');
  return await new Promise((resolve, reject) => {
    const child = spawn(file, [], { env: { ...o.env, CNI_COMMAND: o.command }, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), DELEGATE_TIMEOUT_MS);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new CniError(CniCode.internal, `cannot run ${file}: ${e.message}`, { cause: e }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString('utf8');
      if (code === 0) return resolve(stdout);
      reject(delegateError(file, stdout, Buffer.concat(err).toString('utf8'), code ?? signal ?? 'unknown'));
    });
    child.stdin.on('error', () => undefined); // a plugin that exits without reading: its exit code tells
    child.stdin.end(o.config);
  });
}

/** The delegate's own CNI error when it printed one, else its exit status and stderr. */
function delegateError(file: string, stdout: string, stderr: string, status: number | string): CniError {
  try {
    const e: unknown = JSON.parse(stdout);
    if (isObject(e) && typeof e['code'] === 'number' && typeof e['msg'] === 'string') {
      return new CniError(e['code'], e['msg'], { details: typeof e['details'] === 'string' ? e['details'] : '' });
    }
  } catch { /* not a CNI error: report what it printed */ }
  return new CniError(CniCode.internal, `${file} exited ${status}: ${(stderr || stdout).trim().slice(0, 500)}`);
}
