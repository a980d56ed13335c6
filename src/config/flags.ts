// Flags → validated, frozen options, once, at start (STYLE.md rule 4). Each
// command declares a table of flags; every flag is also read from
// TARTAN_<FLAG_IN_CAPS> (flag wins over env, env over default). Errors name the
// flag (or the env variable) and the value.
import { InvalidInputError } from '../errors.ts';
import type { Check } from './checks.ts';
import { MAX_TIMEOUT_MS } from '../util/time.ts';
import { formatDuration, parseDuration } from './duration.ts';

export type FlagType = 'string' | 'boolean' | 'int' | 'duration' | 'list';

interface FlagCommon {
  readonly name: string;
  readonly help: string;
  /** Never printed: redacted from every message and log line (see observe/redact.ts). */
  readonly secret?: boolean;
  /** Parsed but left out of --help and the README (tests and the lab use it). */
  readonly hidden?: boolean;
}
export interface StringFlag extends FlagCommon {
  readonly type: 'string';
  readonly default?: string;
  /** Accepted values, for enumerations. */
  readonly choices?: readonly string[];
  readonly check?: Check;
}
export interface BooleanFlag extends FlagCommon {
  readonly type: 'boolean';
  /** A boolean is false unless given. */
  readonly default?: boolean;
}
export interface IntFlag extends FlagCommon {
  readonly type: 'int';
  readonly default?: number;
  readonly min?: number;
  readonly max?: number;
}
/** Durations are written as text ("10s") in the table; the parsed value is milliseconds. Bounds are required. */
export interface DurationFlag extends FlagCommon {
  readonly type: 'duration';
  readonly default?: string;
  readonly min: string;
  readonly max: string;
}
export interface ListFlag extends FlagCommon {
  readonly type: 'list';
  readonly default?: readonly string[];
  /** Checked for each item. */
  readonly check?: Check;
}
export type FlagSpec = StringFlag | BooleanFlag | IntFlag | DurationFlag | ListFlag;

type BaseValue<S> = S extends { readonly type: 'boolean' } ? boolean
  : S extends { readonly type: 'int' | 'duration' } ? number
  : S extends { readonly type: 'list' } ? readonly string[]
  : S extends { readonly choices: readonly (infer C extends string)[] } ? C
  : string;
type ValueOf<S> = S extends { readonly type: 'boolean' } | { readonly default: unknown } ? BaseValue<S> : BaseValue<S> | undefined;

/** The parsed options of a flag table: flag name → value; `undefined` only for a flag with no default. */
export type FlagOptions<T extends readonly FlagSpec[]> = { readonly [S in T[number] as S['name']]: ValueOf<S> };
export type FlagName<T extends readonly FlagSpec[]> = T[number]['name'];
export type FlagValue = string | number | boolean | readonly string[] | undefined;

/**
 * Declares a command's flag table; the literal types it keeps are what FlagOptions
 * reads, so `options['subnet-fiel']` is a compile error. Checks the table once.
 */
export function flagTable<const T extends readonly FlagSpec[]>(specs: T): T {
  const seen = new Set<string>();
  for (const spec of specs) {
    if (seen.has(spec.name)) throw new Error(`flag --${spec.name} is declared twice`);
    seen.add(spec.name);
    if (spec.type === 'duration') {
      const [min, max] = [parseDuration(spec.min, `min of --${spec.name}`), parseDuration(spec.max, `max of --${spec.name}`)];
      if (min > max || max > MAX_TIMEOUT_MS) throw new Error(`--${spec.name}: bounds ${spec.min}…${spec.max} are not within 0…${MAX_TIMEOUT_MS} ms (a timer's limit)`);
      if (spec.default !== undefined) checkRange(spec, `default of --${spec.name}`, parseDuration(spec.default, `default of --${spec.name}`));
    }
  }
  return Object.freeze(specs);
}

/** `table` with the flag of the same name as `spec` replaced by `spec` (same place). */
export function replaceFlag<const T extends readonly FlagSpec[], const S extends FlagSpec>(table: T, spec: S): readonly (Exclude<T[number], { readonly name: S['name'] }> | S)[] {
  if (!table.some((f) => f.name === spec.name)) throw new Error(`no flag --${spec.name} to replace`);
  return Object.freeze(table.map((f) => (f.name === spec.name ? spec : f))) as readonly (Exclude<T[number], { readonly name: S['name'] }> | S)[];
}

export function envName(flag: string): string {
  return `TARTAN_${flag.replace(/-/g, '_').toUpperCase()}`;
}

export interface ParsedFlags<T extends readonly FlagSpec[]> {
  /** Frozen; lists too. */
  readonly values: FlagOptions<T>;
  readonly positionals: readonly string[];
  /** The flags given on the command line or in the environment (not defaulted). */
  readonly given: ReadonlySet<FlagName<T>>;
}

/** Parses argv against the specs; `env` supplies TARTAN_* fallbacks. Unknown flags are errors. Pure. */
export function parseFlags<const T extends readonly FlagSpec[]>(specs: T, argv: readonly string[], env: NodeJS.ProcessEnv = {}): ParsedFlags<T> {
  const { raw, positionals } = splitArgv(specs, argv);
  const values: Record<string, FlagValue> = {};
  const given = new Set<string>();
  for (const spec of specs) {
    const fromArgv = raw.get(spec.name);
    const fromEnv = env[envName(spec.name)];
    if (fromArgv) values[spec.name] = convert(spec, fromArgv, `--${spec.name}`);
    else if (fromEnv !== undefined && fromEnv !== '') values[spec.name] = convert(spec, [fromEnv], envName(spec.name));
    else values[spec.name] = defaultValue(spec);
    if (fromArgv || (fromEnv !== undefined && fromEnv !== '')) given.add(spec.name);
  }
  return { values: Object.freeze(values) as FlagOptions<T>, positionals: Object.freeze(positionals), given };
}

function splitArgv(specs: readonly FlagSpec[], argv: readonly string[]): { raw: Map<string, string[]>; positionals: string[] } {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const raw = new Map<string, string[]>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--') || arg === '--') { positionals.push(arg); continue; }
    const eq = arg.indexOf('=');
    let name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
    let value = eq > 0 ? arg.slice(eq + 1) : undefined;
    let spec = byName.get(name);
    if (!spec && name.startsWith('no-') && byName.get(name.slice(3))?.type === 'boolean') {
      if (value !== undefined) throw new InvalidInputError(`--${name}`, value, `a negated flag takes no value (write --${name.slice(3)}=${value} or --${name})`);
      name = name.slice(3);
      spec = byName.get(name);
      value = 'false';
    }
    if (!spec) throw new InvalidInputError(`--${name}`, value ?? true, 'unknown flag (see --help)');
    if (value === undefined) {
      if (spec.type === 'boolean') value = 'true';
      else {
        value = argv[++i];
        if (value === undefined) throw new InvalidInputError(`--${name}`, undefined, 'needs a value');
      }
    }
    raw.set(name, [...(raw.get(name) ?? []), value]);
  }
  return { raw, positionals };
}

function defaultValue(spec: FlagSpec): FlagValue {
  switch (spec.type) {
    case 'list': return Object.freeze([...(spec.default ?? [])]);
    case 'boolean': return spec.default ?? false;
    // Written as text ("10s") for --help; the value is milliseconds, as for a given flag.
    case 'duration': return spec.default === undefined ? undefined : parseDuration(spec.default, `default of --${spec.name}`);
    default: return spec.default;
  }
}

function convert(spec: FlagSpec, given: readonly string[], field: string): FlagValue {
  if (spec.type === 'list') {
    const items = given.flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
    if (items.length === 0) throw new InvalidInputError(field, given.join(','), 'must name at least one value');
    for (const item of items) checkValue(spec.check, field, item, spec.secret);
    return Object.freeze(items);
  }
  const value = given[given.length - 1]!;
  switch (spec.type) {
    case 'string':
      if (value === '') throw new InvalidInputError(field, value, 'must not be empty');
      if (spec.choices && !spec.choices.includes(value)) throw new InvalidInputError(field, value, `must be one of ${spec.choices.join(', ')}`);
      checkValue(spec.check, field, value, spec.secret);
      return value;
    case 'boolean':
      if (['true', '1', 'yes'].includes(value.toLowerCase())) return true;
      if (['false', '0', 'no'].includes(value.toLowerCase())) return false;
      throw new InvalidInputError(field, value, 'must be true or false');
    case 'int': {
      if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(Number(value))) throw new InvalidInputError(field, value, 'must be a whole number');
      return checkRange(spec, field, Number(value));
    }
    case 'duration':
      return checkRange(spec, field, parseDuration(value, field), value);
  }
}

function checkValue(check: Check | undefined, field: string, value: string, secret = false): void {
  const problem = check?.(value);
  if (problem !== undefined) throw new InvalidInputError(field, secret ? '(redacted)' : value, problem);
}

function checkRange(spec: IntFlag | DurationFlag, field: string, n: number, text: string | number = n): number {
  const [min, max] = bounds(spec);
  const show = spec.type === 'duration' ? formatDuration : String;
  if (min !== undefined && n < min) throw new InvalidInputError(field, text, `must be at least ${show(min)}`);
  if (max !== undefined && n > max) throw new InvalidInputError(field, text, `must be at most ${show(max)}`);
  return n;
}

function bounds(spec: IntFlag | DurationFlag): [number | undefined, number | undefined] {
  if (spec.type === 'int') return [spec.min, spec.max];
  return [parseDuration(spec.min, `min of --${spec.name}`), parseDuration(spec.max, `max of --${spec.name}`)];
}

/** A flag's default as text, for --help and the README. */
export function defaultText(spec: FlagSpec): string | undefined {
  const d = spec.default;
  if (d === undefined || (Array.isArray(d) && d.length === 0)) return undefined;
  return Array.isArray(d) ? d.join(',') : String(d);
}

/** The accepted range of an int or duration flag in words ("range 1s to 1h", "at least 0"), else undefined. */
export function boundsText(spec: FlagSpec): string | undefined {
  if (spec.type === 'duration') return `range ${spec.min} to ${spec.max}`;
  if (spec.type !== 'int') return undefined;
  if (spec.min !== undefined && spec.max !== undefined) return `range ${spec.min} to ${spec.max}`;
  if (spec.min !== undefined) return `at least ${spec.min}`;
  return spec.max === undefined ? undefined : `at most ${spec.max}`;
}

export function renderHelp(command: string, summary: string, specs: readonly FlagSpec[]): string {
  const rows = specs.filter((s) => !s.hidden).map((s) => {
    const notes = [defaultText(s) && `default ${defaultText(s)}`, boundsText(s), s.type === 'string' && s.choices && `one of ${s.choices.join(', ')}`].filter(Boolean);
    return `  --${s.name}${s.type === 'boolean' ? '' : ` <${s.type}>`}\n      ${s.help}${notes.length > 0 ? ` (${notes.join('; ')})` : ''}  [env ${envName(s.name)}]`;
  });
  return `Usage: tartan ${command} [flags]\n\n${summary}\n\nFlags:\n${rows.join('\n')}\n  -h, --help\n      show this help and exit\n`;
}
