// Typed errors at the boundaries. Callers branch on the class, never on message text.

/** Bad input: a config field, a flag, a lease value or an API answer. Names the field and the value. */
export class InvalidInputError extends Error {
  readonly field: string;
  readonly value: unknown;
  constructor(field: string, value: unknown, problem: string, options?: ErrorOptions) {
    super(`${field}: ${problem} (got ${describeValue(value)})`, options);
    this.name = 'InvalidInputError';
    this.field = field;
    this.value = value;
  }
}

/** A transient failure (throttling, 5xx, dropped connection): try again, after retryAfterMs if given. */
export class RetryableError extends Error {
  readonly retryAfterMs: number | undefined;
  constructor(message: string, options?: ErrorOptions & { retryAfterMs?: number }) {
    super(message, options);
    this.name = 'RetryableError';
    this.retryAfterMs = options?.retryAfterMs;
  }
}

/** Something else holds the thing we wanted (a subnet, a route destination). */
export class ConflictError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConflictError';
  }
}

/** The object exists but tartan does not own it, so it will not change it. */
export class NotOwnedError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'NotOwnedError';
  }
}

/** A quota or capacity limit was hit (route table full, subnets exhausted). */
export class QuotaExceededError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'QuotaExceededError';
  }
}

/** The thing asked for does not exist (route table, instance). */
export class NotFoundError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'NotFoundError';
  }
}

export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value);
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    // Circular or BigInt: fall through to the type name.
  }
  if (text === undefined) return typeof value === 'bigint' ? `${value}n` : `a ${typeof value}`;
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
