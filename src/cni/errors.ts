// CNI errors as the spec prints them: `{"cniVersion","code","msg","details"}` on stdout,
// non-zero exit. Codes are the spec's (CNI SPEC "Error"); every message names the file,
// key or variable it is about.
import { describeValue } from '../errors.ts';

export const CniCode = {
  incompatibleVersion: 1,
  unsupportedField: 2,
  unknownContainer: 3,
  invalidEnvironment: 4,
  ioFailure: 5,
  decodeFailure: 6,
  invalidConfig: 7,
  tryAgainLater: 11,
  /** STATUS: the plugin cannot ADD now (CNI 1.1). */
  notAvailable: 50,
  internal: 999,
} as const;

export class CniError extends Error {
  readonly code: number;
  readonly details: string;
  constructor(code: number, message: string, options?: ErrorOptions & { details?: string }) {
    super(message, options);
    this.name = 'CniError';
    this.code = code;
    this.details = options?.details ?? '';
  }
}

/** An invalid network config key: `delegate.type: must be a string (got 5)`. */
export function configError(key: string, value: unknown, problem: string): CniError {
  return new CniError(CniCode.invalidConfig, `network config: ${key}: ${problem} (got ${describeValue(value)})`);
}

export function errorJson(err: CniError, cniVersion: string): string {
  const out: Record<string, unknown> = { cniVersion, code: err.code, msg: err.message };
  if (err.details !== '') out['details'] = err.details;
  return JSON.stringify(out);
}

/** Any thrown value as a CniError (unexpected ones are code 999, message kept). */
export function asCniError(err: unknown): CniError {
  if (err instanceof CniError) return err;
  return new CniError(CniCode.internal, err instanceof Error ? err.message : String(err), { cause: err });
}
