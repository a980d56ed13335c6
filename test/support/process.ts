// Child processes that tests start: tracked by PID and killed by PID on exit,
// never by name.
import { type ChildProcess, spawn, type SpawnOptions } from 'node:child_process';

const live = new Set<ChildProcess>();
let hooked = false;

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const child of live) if (child.pid !== undefined && child.exitCode === null) {
      try { process.kill(child.pid, 'SIGKILL'); } catch { /* already gone */ }
    }
  });
}

/** Spawns a process whose PID is remembered and killed when this process exits. */
export function spawnTracked(command: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
  hookExit();
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

/** Sends `signal` to the child by PID and waits for it to exit (SIGKILL after `graceMs`). */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  process.kill(child.pid, signal);
  const timer = setTimeout(() => {
    if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
  }, graceMs);
  try {
    return await exited;
  } finally {
    clearTimeout(timer);
  }
}

/** Collects a child's output lines, for assertions and for failure messages. */
export function collectOutput(child: ChildProcess): { lines: string[]; text: () => string } {
  const lines: string[] = [];
  let partial = '';
  const onData = (chunk: Buffer): void => {
    const parts = (partial + chunk.toString('utf8')).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  return { lines, text: () => [...lines, partial].join('\n') };
}

/** Spawns a process that prints one JSON line when it is ready (relays, emulators); fails with its output if it exits or takes longer. */
export async function spawnReady(argv: readonly string[], options: SpawnOptions = {}, timeoutMs = 15_000): Promise<{ child: ChildProcess; ready: string }> {
  const child = spawnTracked(argv[0]!, argv.slice(1), options);
  const out = collectOutput(child);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ready = out.lines.find((l) => l.startsWith('{'));
    if (ready !== undefined) return { child, ready };
    if (child.exitCode !== null || Date.now() > deadline) {
      await stopChild(child);
      throw new Error(`${argv.join(' ')} did not start: ${out.text()}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}
