// JSON logs (pino): one object per line on stderr, `msg` plus structured fields.
// Every line passes through the one redaction helper (observe/redact.ts).
import { pino, type Logger as PinoLogger, type LoggerOptions } from 'pino';
import { redactDeep, redactText } from './redact.ts';

export type Logger = Pick<PinoLogger, 'info' | 'warn' | 'error' | 'debug' | 'child'>;

export interface LogOptions {
  readonly level?: string;
  readonly name?: string;
  /** Where lines go; defaults to stderr (fd 2). */
  readonly destination?: NodeJS.WritableStream;
}

export function createLogger(opts: LogOptions = {}): Logger {
  const destination = opts.destination ?? pino.destination({ fd: 2, sync: true });
  return pino(
    { level: opts.level ?? process.env.TARTAN_LOG_LEVEL ?? 'info', name: opts.name, base: { pid: process.pid }, ...REDACTING },
    destination,
  );
}

const REDACTING: Pick<LoggerOptions, 'formatters' | 'hooks' | 'serializers'> = {
  // Errors are already plain (and redacted) objects by the time serializers run.
  serializers: { err: (e: unknown) => (e instanceof Error ? redactDeep(pino.stdSerializers.err(e)) : e) },
  formatters: { log: (fields) => redactDeep(fields) as Record<string, unknown> },
  hooks: {
    logMethod(args, method) {
      const redacted = args.map((a: unknown) => (typeof a === 'string' ? redactText(a) : a));
      method.apply(this, redacted as Parameters<typeof method>);
    },
  },
};

/** A logger that drops everything, for tests that do not look at logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
