// A command's whole command line, before anything else happens: -h/--help anywhere
// wins (help on stdout, exit 0), then the flags are parsed and checked, stray words
// refused, and secret values (secret flags, URL passwords) remembered for
// redaction. Errors are InvalidInputError (exit 2, naming the flag and the value).
import { InvalidInputError } from '../errors.ts';
import { rememberSecret, rememberUrlPasswords } from '../observe/redact.ts';
import { type FlagName, type FlagOptions, type FlagSpec, parseFlags, renderHelp } from './flags.ts';

export interface CommandSpec<T extends readonly FlagSpec[]> {
  readonly name: string;
  readonly summary: string;
  readonly flags: T;
}

export type CommandLine<T extends readonly FlagSpec[]> =
  | { readonly help: string }
  | { readonly help?: undefined; readonly options: FlagOptions<T>; readonly given: ReadonlySet<FlagName<T>> };

const HELP = new Set(['-h', '--help', '--help=true']);

export function wantsHelp(argv: readonly string[]): boolean {
  return argv.some((arg) => HELP.has(arg));
}

export function parseCommandLine<const T extends readonly FlagSpec[]>(command: CommandSpec<T>, argv: readonly string[], env: NodeJS.ProcessEnv): CommandLine<T> {
  if (wantsHelp(argv)) return { help: renderHelp(command.name, command.summary, command.flags) };
  const { values, positionals, given } = parseFlags(command.flags, argv, env);
  if (positionals.length > 0) {
    throw new InvalidInputError('arguments', positionals.join(' '), `stray word${positionals.length > 1 ? 's' : ''}: tartan ${command.name} takes flags only (--name value)`);
  }
  const record = values as Readonly<Record<string, unknown>>;
  for (const spec of command.flags) {
    const value = record[spec.name];
    if (spec.secret && typeof value === 'string') rememberSecret(value);
    const texts: readonly unknown[] = Array.isArray(value) ? value : [value];
    for (const text of texts) if (typeof text === 'string') rememberUrlPasswords(text);
  }
  return { options: values, given };
}
