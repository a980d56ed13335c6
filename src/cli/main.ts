// The one binary. Subcommands are wired here explicitly (no import side effects);
// one root AbortController, aborted by SIGTERM/SIGINT, reaches every loop.
import { format } from 'node:util';
import { InvalidInputError, errorMessage } from '../errors.ts';
import { LeaseRevokedError } from '../lease/store.ts';
import { type Logger, createLogger } from '../observe/log.ts';
import { redactText } from '../observe/redact.ts';

type Command = (argv: readonly string[], signal: AbortSignal) => Promise<number>;

// Each command is imported only when it runs: the agent on every host must not load
// the three cloud SDKs the controller needs (measured: ~400 MB RSS with, ~120 MB without).
const COMMANDS: Readonly<Record<string, { run: Command; summary: string }>> = {
  agent: {
    run: async (argv, signal) => (await import('./agent.ts')).runAgent(argv, signal),
    summary: "hold this host's subnet lease, write subnet.env, program the kernel for every peer",
  },
  controller: {
    run: async (argv, signal) => (await import('./controller.ts')).runController(argv, signal),
    summary: 'leader-elected: write every lease into the managed cloud route tables, publish route status',
  },
  audit: {
    run: async (argv, signal) => (await import('./audit.ts')).runAudit(argv, signal),
    summary: 'read-only drift report: leases vs cloud route tables vs the kernel (exit 0 clean, 1 drift, 2 could not audit)',
  },
  'docker-opts': {
    run: async (argv) => (await import('./docker-opts.ts')).runDockerOpts(argv),
    summary: 'subnet.env → Docker daemon options (mk-docker-opts)',
  },
  'install-cni': {
    run: async (argv) => (await import('./install-cni.ts')).runInstallCni(argv),
    summary: 'DaemonSet init container: install the CNI plugin executable (as flannel and tartan) and the conflist, atomically',
  },
};

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  // A container runtime runs CNI plugins with no arguments and CNI_COMMAND set: installed as
  // `flannel` (or `tartan`) in the CNI bin dir, this binary is tartan's CNI plugin.
  // `tartan cni` (not listed) is the same, explicitly. stdout carries only the CNI result.
  if ((name === undefined && process.env['CNI_COMMAND'] !== undefined) || name === 'cni') {
    return (await import('../cni/main.ts')).runCniPlugin(process.env);
  }
  const command = name ? COMMANDS[name] : undefined;
  if (!command) {
    const list = Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(12)} ${c.summary}`).join('\n');
    const out = `Usage: tartan <command> [flags]   (tartan <command> --help for its flags)\n\nCommands:\n${list}\n`;
    if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
      process.stdout.write(out);
      return name === undefined ? 2 : 0;
    }
    process.stderr.write(`tartan: unknown command ${JSON.stringify(name)}\n\n${out}`);
    return 2;
  }
  const root = new AbortController();
  const onSignal = (sig: NodeJS.Signals): void => root.abort(new Error(`received ${sig}`));
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  const restoreOutput = routeStrayOutput(createLogger({ name }));
  try {
    return await command.run(rest, root.signal);
  } catch (err) {
    process.stderr.write(`${JSON.stringify({ level: 'fatal', msg: redactText(errorMessage(err)), error: err instanceof Error ? err.name : 'Error' })}\n`);
    if (err instanceof InvalidInputError) return 2;
    if (err instanceof LeaseRevokedError) return 3;
    return 1;
  } finally {
    restoreOutput();
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}

/**
 * Lines that Node and libraries write to stderr themselves (process warnings such
 * as TimeoutOverflowWarning or DEP0123, an SDK's console.warn "[WARN] …") become
 * JSON log lines like every other, redacted. Only here, in the CLI's main: library
 * code never touches process-wide output. Returns the undo.
 */
function routeStrayOutput(log: Logger): () => void {
  const defaultListeners = process.listeners('warning');
  const { warn, error } = console;
  const onWarning = (w: Error & { code?: string }): void => log.warn({ warning: w.name, code: w.code }, w.message);
  process.removeAllListeners('warning');
  process.on('warning', onWarning);
  console.warn = (...args: unknown[]) => log.warn({ source: 'console.warn' }, format(...args));
  console.error = (...args: unknown[]) => log.error({ source: 'console.error' }, format(...args));
  return () => {
    process.off('warning', onWarning);
    for (const listener of defaultListeners) process.on('warning', listener);
    Object.assign(console, { warn, error });
  };
}

/** After the command returned, whatever is still open (a socket, a library's timer) gets this long before the process exits anyway. */
export const EXIT_GRACE_MS = 5_000;

if (import.meta.main) {
  process.exitCode = await main(process.argv.slice(2));
  // The one shutdown path ends here: the code is decided, nothing may keep the process alive.
  setTimeout(() => {
    process.stderr.write(`${JSON.stringify({ level: 'warn', msg: `still running ${EXIT_GRACE_MS} ms after stopping: exiting anyway`, exitCode: process.exitCode })}\n`);
    process.exit();
  }, EXIT_GRACE_MS).unref();
}
