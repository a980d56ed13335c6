// Status objects in the apiserver's exact shape (apimachinery pkg/api/errors):
// empty fields are omitted, and for the core group `details.group` is absent.
// Handlers throw ApiError; the front turns it into the HTTP answer.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** Which object a Status names: group and plural resource (details.kind is the resource, as in the apiserver). */
export interface StatusTarget {
  readonly group?: string;
  readonly resource?: string;
  readonly name?: string;
}

export interface StatusCause {
  readonly reason?: string;
  readonly message?: string;
  readonly field?: string;
}

export interface StatusFields extends StatusTarget {
  readonly code: number;
  readonly reason: string;
  readonly message: string;
  readonly causes?: readonly StatusCause[];
  readonly retryAfterSeconds?: number;
  /** ListMeta.continue, for an expired continue token (a fresh token to go on with). */
  readonly continueToken?: string;
}

export class ApiError extends Error {
  readonly fields: StatusFields;
  constructor(fields: StatusFields) {
    super(fields.message);
    this.fields = fields;
  }
  get code(): number {
    return this.fields.code;
  }
}

export function statusBody(f: StatusFields): JsonObject {
  const details: JsonObject = {};
  if (f.name) details.name = f.name;
  if (f.group) details.group = f.group;
  if (f.resource) details.kind = f.resource;
  if (f.causes && f.causes.length > 0) details.causes = f.causes.map((c) => ({ ...c }));
  if (f.retryAfterSeconds !== undefined) details.retryAfterSeconds = f.retryAfterSeconds;
  const body: JsonObject = {
    kind: 'Status', apiVersion: 'v1', metadata: f.continueToken ? { continue: f.continueToken } : {},
    status: 'Failure', message: f.message, reason: f.reason,
  };
  if (Object.keys(details).length > 0) body.details = details;
  body.code = f.code;
  return body;
}

/** `nodes`, or `leases.coordination.k8s.io`: GroupResource.String(). */
export function qualified(t: StatusTarget): string {
  return t.group ? `${t.resource ?? ''}.${t.group}` : (t.resource ?? '');
}

export const notFound = (t: StatusTarget): ApiError =>
  new ApiError({ ...t, code: 404, reason: 'NotFound', message: `${qualified(t)} "${t.name ?? ''}" not found` });

export const alreadyExists = (t: StatusTarget): ApiError =>
  new ApiError({ ...t, code: 409, reason: 'AlreadyExists', message: `${qualified(t)} "${t.name ?? ''}" already exists` });

export const conflict = (t: StatusTarget): ApiError => new ApiError({
  ...t, code: 409, reason: 'Conflict',
  message: `Operation cannot be fulfilled on ${qualified(t)} "${t.name ?? ''}": the object has been modified; please apply your changes to the latest version and try again`,
});

export const badRequest = (message: string): ApiError => new ApiError({ code: 400, reason: 'BadRequest', message });

/** A field.Error: `body` is its ErrorBody(), e.g. `Invalid value: "x": must be …` or `Required value: …`. */
export interface FieldError {
  readonly field: string;
  readonly reason: 'FieldValueInvalid' | 'FieldValueRequired' | 'FieldValueForbidden';
  readonly body: string;
}

/** 422: `<Kind.group> "name" is invalid: field: body`, one cause per field error (details.kind is the Kind here). */
export function invalid(opts: { kind: string; group: string; name: string; errors: readonly FieldError[] }): ApiError {
  const qualifiedKind = opts.group ? `${opts.kind}.${opts.group}` : opts.kind;
  const texts = opts.errors.map((e) => `${e.field}: ${e.body}`);
  const joined = texts.length === 1 ? texts[0] : `[${texts.join(', ')}]`;
  return new ApiError({
    code: 422, reason: 'Invalid', name: opts.name, group: opts.group, resource: opts.kind,
    message: `${qualifiedKind} "${opts.name}" is invalid: ${joined}`,
    causes: opts.errors.map((e) => ({ reason: e.reason, message: e.body, field: e.field })),
  });
}

export const expired = (message: string, continueToken?: string): ApiError =>
  new ApiError({ code: 410, reason: 'Expired', message, ...(continueToken ? { continueToken } : {}) });

export const forbidden = (t: StatusTarget, reason: string): ApiError => new ApiError({
  ...t, code: 403, reason: 'Forbidden',
  message: t.resource
    ? `${qualified(t)}${t.name ? ` "${t.name}"` : ''} is forbidden: ${reason}`
    : `forbidden: ${reason}`,
});

export const unauthorized = (): ApiError => new ApiError({ code: 401, reason: 'Unauthorized', message: 'Unauthorized' });

export const methodNotAllowed = (): ApiError =>
  new ApiError({ code: 405, reason: 'MethodNotAllowed', message: 'the server does not allow this method on the requested resource' });

export const pathNotFound = (): ApiError =>
  new ApiError({ code: 404, reason: 'NotFound', message: 'the server could not find the requested resource' });

export const tooManyRequests = (retryAfterSeconds: number): ApiError => new ApiError({
  code: 429, reason: 'TooManyRequests', message: 'Too many requests, please try again later.', retryAfterSeconds,
});

export const internalError = (detail: string): ApiError => new ApiError({
  code: 500, reason: 'InternalError', message: `Internal error occurred: ${detail}`, causes: [{ message: detail }],
});

export const unsupportedMediaType = (accepted: readonly string[]): ApiError => new ApiError({
  code: 415, reason: 'UnsupportedMediaType',
  message: `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`,
});

/** A JSON value as text: strings as they are, other scalars and objects as JSON. */
export function str(v: Json | undefined): string {
  if (v === undefined || v === null) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}
