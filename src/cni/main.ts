// The plugin entry: a runtime runs the executable (`flannel` or `tartan` in its CNI bin dir)
// with CNI_COMMAND and friends set and the network config on stdin; the result or the CNI
// error goes to stdout, nothing else does. src/cli/main.ts comes here when CNI_COMMAND is set
// and no arguments are given (or for `tartan cni`); the single executable (npm run build:cni)
// starts here from executable.ts.
import { readFileSync, writeSync } from 'node:fs';
import { parseCniEnv } from './env.ts';
import { asCniError, errorJson } from './errors.ts';
import { realDeps } from './io.ts';
import { runPlugin } from './plugin.ts';
import { CURRENT_VERSION } from './version.ts';

export async function runCniPlugin(env: Readonly<NodeJS.ProcessEnv> = process.env): Promise<number> {
  let stdout: string;
  let exitCode: number;
  try {
    const args = parseCniEnv(env);
    const stdin = args.command === 'VERSION' ? '' : readFileSync(0, 'utf8');
    ({ stdout, exitCode } = await runPlugin(args, stdin, realDeps(env, args.path)));
  } catch (err) {
    stdout = errorJson(asCniError(err), CURRENT_VERSION);
    exitCode = 1;
  }
  // fd 1 directly: process.stdout would build a stream first (~2.5 ms of every run).
  if (stdout !== '') writeSync(1, `${stdout}\n`);
  return exitCode;
}
