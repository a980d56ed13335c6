// One redaction helper for every message and log line: passwords in URLs
// (http://user:hunter2@host → http://user:***@host), token-ish query parameters and
// Authorization values, and the values of flags marked secret (--etcd-password).
// The fatal-error path (cli/main.ts) and the logger (log.ts) both use it.

export const REDACTED = '***';

const secrets = new Set<string>();

/** Remembers a secret value (a secret flag's) so that no message or log line shows it. */
export function rememberSecret(value: string): void {
  if (value.length >= 3) secrets.add(value);
}

const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*):[^\s/@]*@/gi;
const TOKEN_PARAM = /([?&;](?:access_token|token|password|passwd|secret|key|signature|x-amz-signature|x-amz-security-token)=)[^&\s"']*/gi;
const AUTH_HEADER = /\b((?:authorization|proxy-authorization)["']?\s*[:=]\s*["']?(?:bearer|basic|token)?\s*)[^\s"',}]+/gi;

export function redactText(text: string): string {
  let out = text.replace(URL_USERINFO, `$1:${REDACTED}@`).replace(TOKEN_PARAM, `$1${REDACTED}`).replace(AUTH_HEADER, `$1${REDACTED}`);
  for (const secret of secrets) out = out.split(secret).join(REDACTED);
  return out;
}

/** Remembers the passwords of URLs in `text` (user:password@), for when a library prints them in another form. */
export function rememberUrlPasswords(text: string): void {
  for (const m of text.matchAll(URL_USERINFO)) {
    const password = m[0].slice(m[1]!.length + 1, -1);
    rememberSecret(password);
    rememberSecret(decodeURIComponentSafe(password));
  }
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Keys whose values are never logged, whatever they hold. */
export const SECRET_KEYS = ['password', 'token', 'secret', 'authorization', 'accessKeySecret', 'secretAccessKey', 'sessionToken'];
const SECRET_KEY = new RegExp(`^(${SECRET_KEYS.join('|')})$`, 'i');

/** Strings redacted at any depth (to 6 levels); Errors become { type, message, stack } first. */
export function redactDeep(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactText(value);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return redactDeep({ type: value.name, message: value.message, stack: value.stack, ...(value.cause === undefined ? {} : { cause: value.cause }) }, depth + 1);
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, depth + 1));
  if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, SECRET_KEY.test(k) && v !== undefined ? REDACTED : redactDeep(v, depth + 1)]));
}
