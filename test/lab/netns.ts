// Network namespaces the lab creates, and nothing else: every name is remembered
// when created and deleted by name on teardown, or by a process 'exit' hook if a
// test dies first. A namespace this process did not create is never deleted.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';

const created = new Set<string>();
let hooked = false;

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const ns of created) {
      try {
        execFileSync('ip', ['netns', 'delete', ns], { stdio: 'ignore' });
      } catch { /* already gone */ }
    }
    created.clear();
  });
}

/** A short random id for namespace names (`tt-<id>-…`), unique per lab. */
export function labId(): string {
  return randomBytes(3).toString('hex');
}

export async function createNamespace(name: string): Promise<void> {
  hookExit();
  await runChecked('ip', ['netns', 'add', name]);
  created.add(name);
}

export async function deleteNamespace(name: string): Promise<void> {
  if (!created.has(name)) throw new Error(`refusing to delete namespace ${name}: this process did not create it`);
  await run('ip', ['netns', 'delete', name]);
  created.delete(name);
}

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command (no shell), bounded by `timeoutMs` (SIGKILL after). */
export function run(cmd: string, args: readonly string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 137, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

export async function runChecked(cmd: string, args: readonly string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<string> {
  const res = await run(cmd, args, opts);
  if (res.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${res.code}: ${res.stderr.trim()}${opts.input ? `\ninput:\n${opts.input}` : ''}`);
  return res.stdout;
}

/** Runs `cmd args` inside namespace `ns`. */
export function nsExec(ns: string, cmd: string, args: readonly string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return run('ip', ['netns', 'exec', ns, cmd, ...args], opts);
}

/** One `ip -n <ns> -batch -` for all `lines` (stops at the first failure). */
export async function ipBatch(ns: string, lines: readonly string[]): Promise<void> {
  if (lines.length === 0) return;
  await runChecked('ip', ['-n', ns, '-batch', '-'], { input: lines.join('\n') + '\n' });
}

/** Sets sysctls inside `ns` only (never in the root namespace). */
export async function nsSysctl(ns: string, settings: Readonly<Record<string, string | number>>): Promise<void> {
  const args = Object.entries(settings).flatMap(([k, v]) => ['-w', `${k}=${v}`]);
  await runChecked('ip', ['netns', 'exec', ns, 'sysctl', '-q', ...args]);
}
