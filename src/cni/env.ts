// The CNI_* variables a runtime sets, checked as libcni's skel checks them: which ones each
// command needs, and a container ID and interface name that are safe to use as file names.
import { CniCode, CniError } from './errors.ts';

export const COMMANDS = ['ADD', 'DEL', 'CHECK', 'STATUS', 'GC', 'VERSION'] as const;
export type CniCommand = typeof COMMANDS[number];

export interface CniArgs {
  readonly command: CniCommand;
  readonly containerId: string;
  readonly netns: string;
  readonly ifname: string;
  /** CNI_PATH: where the delegate plugin is looked up (colon-separated). */
  readonly path: string;
}

const NEEDS: Readonly<Record<CniCommand, readonly string[]>> = {
  ADD: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_PATH'],
  CHECK: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_PATH'],
  DEL: ['CNI_CONTAINERID', 'CNI_IFNAME', 'CNI_PATH'],
  STATUS: ['CNI_PATH'],
  GC: ['CNI_PATH'],
  VERSION: [],
};

const CONTAINER_ID = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export function parseCniEnv(env: Readonly<Record<string, string | undefined>>): CniArgs {
  const command = env['CNI_COMMAND'] ?? '';
  if (!(COMMANDS as readonly string[]).includes(command)) {
    const problem = command === '' ? 'required env variables [CNI_COMMAND] missing' : `unknown CNI_COMMAND ${JSON.stringify(command)}`;
    throw new CniError(CniCode.invalidEnvironment, `${problem} (one of ${COMMANDS.join(', ')})`);
  }
  const cmd = command as CniCommand;
  const missing = NEEDS[cmd].filter((name) => (env[name] ?? '') === '');
  if (missing.length > 0) throw new CniError(CniCode.invalidEnvironment, `required env variables [${missing.join(',')}] missing for ${cmd}`);
  const args = {
    command: cmd, containerId: env['CNI_CONTAINERID'] ?? '', netns: env['CNI_NETNS'] ?? '',
    ifname: env['CNI_IFNAME'] ?? '', path: env['CNI_PATH'] ?? '',
  };
  if (args.containerId !== '' && !CONTAINER_ID.test(args.containerId)) {
    throw new CniError(CniCode.invalidEnvironment, `CNI_CONTAINERID: invalid characters in ${JSON.stringify(args.containerId)} (letters, digits, _ . - only, not first)`);
  }
  if (args.ifname !== '') checkIfname(args.ifname);
  return args;
}

function checkIfname(name: string): void {
  const problem = name.length > 15 ? 'longer than 15 characters'
    : name === '.' || name === '..' ? 'not a name'
      : /[/:\s]/.test(name) ? 'holds "/", ":" or white space' : undefined;
  if (problem) throw new CniError(CniCode.invalidEnvironment, `CNI_IFNAME: ${JSON.stringify(name)} is ${problem}`);
}
