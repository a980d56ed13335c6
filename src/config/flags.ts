// Flags → validated, frozen options, once, at start (STYLE.md rule 4). Each
// command declares a table of flags; every flag is also read from
// TARTAN_<FLAG_IN_CAPS> (flag wins over env, env over default). Errors name the
// flag (or the env variable) and the value.
import { InvalidInputError } from '../errors.ts';

export type FlagType = 'string' | 'boolean' | 'int' | 'duration' | 'list';

export interface FlagSpec {
  readonly name: string;
  readonly type: FlagType;
  readonly help: string;
  readonly default?: string | number | boolean | readonly string[] | undefined;
  readonly min?: number;
  readonly max?: number;
  /** Accepted values, for enumerations. */
  readonly choices?: readonly string[];
}

export type FlagValue = string | number | boolean | string[] | undefined;
export type FlagValues = Readonly<Record<string, FlagValue>>;

export function envName(flag: string): string {
  return `TARTAN_${flag.replace(/-/g, '_').toUpperCase()}`;
}

/** Parses argv against the specs; `env` supplies TARTAN_* fallbacks. Unknown flags are errors. */
export function parseFlags(specs: readonly FlagSpec[], argv: readonly string[], env: NodeJS.ProcessEnv = {}): { values: FlagValues; positionals: string[] } {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const raw = new Map<string, string[]>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) { positionals.push(arg); continue; }
    const eq = arg.indexOf('=');
    let name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
    let value = eq > 0 ? arg.slice(eq + 1) : undefined;
    let spec = byName.get(name);
    if (!spec && name.startsWith('no-') && byName.get(name.slice(3))?.type === 'boolean') {
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
  const values: Record<string, FlagValue> = {};
  for (const spec of specs) {
    const given = raw.get(spec.name);
    const fromEnv = env[envName(spec.name)];
    if (given) values[spec.name] = convert(spec, given, `--${spec.name}`);
    else if (fromEnv !== undefined && fromEnv !== '') values[spec.name] = convert(spec, [fromEnv], envName(spec.name));
    else values[spec.name] = spec.default === undefined ? undefined : defaultValue(spec);
  }
  return { values: Object.freeze(values), positionals };
}

function defaultValue(spec: FlagSpec): FlagValue {
  const value = spec.default;
  if (Array.isArray(value)) return [...(value as readonly string[])];
  // A duration default is written as text ("10s") for --help; the value is milliseconds, as for a given flag.
  if (spec.type === 'duration' && typeof value === 'string') return parseDuration(value, `default of --${spec.name}`);
  return value as Exclude<FlagSpec['default'], readonly string[]>;
}

function convert(spec: FlagSpec, given: readonly string[], field: string): FlagValue {
  if (spec.type === 'list') return given.flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
  const value = given[given.length - 1]!;
  switch (spec.type) {
    case 'string':
      if (spec.choices && !spec.choices.includes(value)) throw new InvalidInputError(field, value, `must be one of ${spec.choices.join(', ')}`);
      return value;
    case 'boolean':
      if (['true', '1', 'yes'].includes(value.toLowerCase())) return true;
      if (['false', '0', 'no'].includes(value.toLowerCase())) return false;
      throw new InvalidInputError(field, value, 'must be true or false');
    case 'int': {
      const n = Number(value);
      if (!/^-?\d+$/.test(value)) throw new InvalidInputError(field, value, 'must be a whole number');
      return checkRange(spec, field, n);
    }
    case 'duration':
      return checkRange(spec, field, parseDuration(value, field));
  }
}

function checkRange(spec: FlagSpec, field: string, n: number): number {
  if (spec.min !== undefined && n < spec.min) throw new InvalidInputError(field, n, `must be at least ${spec.min}`);
  if (spec.max !== undefined && n > spec.max) throw new InvalidInputError(field, n, `must be at most ${spec.max}`);
  return n;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go-style durations ("500ms", "10s", "1m30s", "24h") → milliseconds. */
export function parseDuration(text: string, field: string): number {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * UNITS[m[2]!]!;
    matched = re.lastIndex;
  }
  if (text === '' || matched !== text.length) throw new InvalidInputError(field, text, 'must be a duration like 500ms, 10s, 1m or 24h');
  return Math.round(total);
}

export function renderHelp(command: string, summary: string, specs: readonly FlagSpec[]): string {
  const rows = specs.map((s) => {
    const def = s.default === undefined || (Array.isArray(s.default) && s.default.length === 0) ? '' : ` (default ${Array.isArray(s.default) ? s.default.join(',') : String(s.default)})`;
    return `  --${s.name}${s.type === 'boolean' ? '' : ` <${s.type}>`}\n      ${s.help}${def}  [env ${envName(s.name)}]`;
  });
  return `Usage: tartan ${command} [flags]\n\n${summary}\n\nFlags:\n${rows.join('\n')}\n`;
}

export function str(values: FlagValues, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}
export function num(values: FlagValues, name: string): number {
  const v = values[name];
  if (typeof v !== 'number') throw new Error(`flag --${name} has no number value`);
  return v;
}
export function bool(values: FlagValues, name: string): boolean {
  return values[name] === true;
}
export function list(values: FlagValues, name: string): string[] {
  const v = values[name];
  return Array.isArray(v) ? v : [];
}
