// JSON logs (pino): one object per line on stderr, `msg` plus structured fields.
import { pino, type Logger as PinoLogger } from 'pino';

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
    { level: opts.level ?? process.env.TARTAN_LOG_LEVEL ?? 'info', name: opts.name, base: { pid: process.pid } },
    destination,
  );
}

/** A logger that drops everything, for tests that do not look at logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
