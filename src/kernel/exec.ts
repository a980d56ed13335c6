// Runs iproute2 (`ip`, `bridge`) and `nft`: one process per call, input on stdin
// for batches. `netns` runs the tool inside a named network namespace (tests, the
// lab and the bench); production leaves it undefined and works on the host.
import { spawn } from 'node:child_process';

export type Tool = 'ip' | 'bridge' | 'nft';

export interface KernelTarget {
  /** Named network namespace (`ip netns`); undefined = the namespace this process runs in. */
  readonly netns?: string | undefined;
}

export interface RunOptions extends KernelTarget {
  readonly input?: string | undefined;
  readonly signal?: AbortSignal | undefined;
}

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A kernel tool exited non-zero, or could not be started. */
export class KernelCommandError extends Error {
  readonly command: string;
  readonly code: number;
  readonly stderr: string;
  constructor(command: string, code: number, stderr: string, options?: ErrorOptions) {
    super(`${command} failed (exit ${code}): ${stderr.trim() || 'no output'}`, options);
    this.name = 'KernelCommandError';
    this.command = command;
    this.code = code;
    this.stderr = stderr;
  }
}

/** The argv that runs `tool args` in the target namespace. */
export function toolArgv(tool: Tool, args: readonly string[], target: KernelTarget): [string, string[]] {
  if (target.netns === undefined) return [tool, [...args]];
  // ip and bridge switch namespaces themselves (-n); nft has no such flag.
  if (tool === 'nft') return ['ip', ['netns', 'exec', target.netns, 'nft', ...args]];
  return [tool, ['-n', target.netns, ...args]];
}

/** Runs the tool and resolves with its exit code and output; never rejects on a non-zero exit. */
export function runTool(tool: Tool, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return startTool(tool, args, opts).finish(opts.input ?? '');
}

export interface StartedTool {
  /** Writes the whole input, closes stdin, and resolves when the process has exited. */
  finish(input: string): Promise<RunResult>;
}

/**
 * Starts the tool now and lets the caller feed it later. A batch reads nothing
 * before its input arrives, so starting the next batch's process while the
 * previous one runs hides the fork/exec time without giving up their order.
 */
export function startTool(tool: Tool, args: readonly string[], opts: KernelTarget & { signal?: AbortSignal | undefined } = {}): StartedTool {
  const [cmd, argv] = toolArgv(tool, args, opts);
  const child = spawn(cmd, argv, { stdio: ['pipe', 'pipe', 'pipe'], signal: opts.signal });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => err.push(b));
  child.stdin.on('error', () => { /* the exit code and stderr tell what went wrong */ });
  const done = new Promise<RunResult>((resolve, reject) => {
    child.on('error', (e) => reject(new KernelCommandError(`${cmd} ${argv.join(' ')}`, -1, e.message, { cause: e })));
    child.on('close', (code, sig) => {
      resolve({
        code: code ?? (sig ? 128 : 1),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
  done.catch(() => undefined); // observed through finish(); never an unhandled rejection
  return {
    finish: (input) => {
      child.stdin.end(input);
      return done;
    },
  };
}

/** Like runTool, but a non-zero exit rejects with KernelCommandError. */
export async function runToolChecked(tool: Tool, args: readonly string[], opts: RunOptions = {}): Promise<string> {
  const res = await runTool(tool, args, opts);
  if (res.code !== 0) {
    const [cmd, argv] = toolArgv(tool, args, opts);
    throw new KernelCommandError(`${cmd} ${argv.join(' ')}`, res.code, res.stderr);
  }
  return res.stdout;
}

/** Runs a tool that prints JSON (`-json`) and parses it; empty output is an empty list. */
export async function runJson<T>(tool: Tool, args: readonly string[], opts: RunOptions = {}): Promise<T[]> {
  const text = await runToolChecked(tool, args, opts);
  if (text.trim() === '') return [];
  const parsed = JSON.parse(text) as unknown;
  return Array.isArray(parsed) ? (parsed as T[]) : [];
}
