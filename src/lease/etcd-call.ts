// Every etcd request goes through etcdCall: it ends when etcd answers, when its
// deadline passes (default 5 s) or when the caller's AbortSignal aborts, whichever
// comes first, so a hung connection (etcd stopped, a partition that drops packets)
// never blocks a loop silently. gRPC gets the same deadline (createEtcdClient's
// defaultCallOptions), so the abandoned request is cancelled on the wire too; what
// etcd may still have applied is the caller's to make harmless (see etcd.ts #write).
//
// Failures that no retry can fix — etcd's certificate not trusted by --etcd-cafile,
// our client certificate refused, a wrong password, a user without the permission —
// become one EtcdTrustError that names the flag and the cause (an InvalidInputError:
// the CLI exits 2; loops must not retry it).
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { InvalidInputError, RetryableError, errorMessage } from '../errors.ts';

export const DEFAULT_ETCD_CALL_TIMEOUT_MS = 5000;

/** etcd did not answer within the deadline. The outcome is unknown: the request may have been applied. */
export class EtcdDeadlineError extends RetryableError {
  constructor(what: string, timeoutMs: number) {
    super(`etcd did not answer ${what} within ${timeoutMs} ms`);
    this.name = 'EtcdDeadlineError';
  }
}

/** TLS or auth refused: names the flag to fix. Not retryable. */
export class EtcdTrustError extends InvalidInputError {
  constructor(flag: string, value: unknown, problem: string, options?: ErrorOptions) {
    super(flag, value, problem, options);
    this.name = 'EtcdTrustError';
  }
}

/** What the client was built with, to explain a TLS or auth failure. */
export interface EtcdTrust {
  readonly caFile?: string | undefined;
  readonly certFile?: string | undefined;
  readonly username?: string | undefined;
}

export interface EtcdCallOptions {
  /** What is asked, for messages: "get /coreos.com/network/config". */
  readonly what: string;
  readonly signal: AbortSignal;
  readonly timeoutMs: number;
  readonly trust?: EtcdTrust | undefined;
}

export async function etcdCall<T>(o: EtcdCallOptions, fn: () => Promise<T>): Promise<T> {
  o.signal.throwIfAborted();
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const stopped = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new EtcdDeadlineError(o.what, o.timeoutMs)), o.timeoutMs);
    onAbort = () => reject(o.signal.reason instanceof Error ? o.signal.reason : new Error(`aborted: ${o.what}`));
    o.signal.addEventListener('abort', onAbort, { once: true });
  });
  const call = fn();
  // An abandoned call may still settle later; its outcome is no longer anyone's.
  call.catch(() => {});
  try {
    return await Promise.race([call, stopped]);
  } catch (err) {
    throw classifyEtcdError(err, o.what, o.trust);
  } finally {
    clearTimeout(timer);
    if (onAbort) o.signal.removeEventListener('abort', onAbort);
  }
}

const SERVER_NOT_TRUSTED = /unable to verify|self[- ]signed certificate|unable to get (local )?issuer|certificate has expired|certificate is not yet valid|Hostname\/IP does not match|ERR_TLS_CERT/i;
const CLIENT_REFUSED = /alert (bad certificate|certificate expired|unknown ca|certificate required|certificate unknown|unsupported certificate)|alert number (4[2-9]|116)/i;

/** A TLS/auth failure → EtcdTrustError naming the flag; anything else unchanged. */
export function classifyEtcdError(err: unknown, what: string, trust: EtcdTrust = {}): unknown {
  if (!(err instanceof Error) || err instanceof EtcdTrustError || err instanceof EtcdDeadlineError) return err;
  const message = errorMessage(err);
  if (SERVER_NOT_TRUSTED.test(message)) {
    const why = trust.caFile === undefined ? 'no CA file was given' : `etcd's server certificate is not signed by this CA (or names another host, or has expired)`;
    return new EtcdTrustError('--etcd-cafile', trust.caFile, `cannot trust etcd: ${why}; TLS said: ${tlsDetail(message)}`, { cause: err });
  }
  if (CLIENT_REFUSED.test(message)) {
    const local = trust.certFile === undefined ? 'no client certificate was given (etcd runs with --client-cert-auth)' : certificateProblem(trust.certFile);
    return new EtcdTrustError('--etcd-certfile', trust.certFile, `etcd refused the client certificate: ${local}; TLS said: ${tlsDetail(message)}`, { cause: err });
  }
  if (err.constructor.name === 'EtcdAuthenticationFailedError' || /authentication failed, invalid user ID or password/.test(message)) {
    return new EtcdTrustError('--etcd-password', trust.username === undefined ? undefined : '(redacted)', `etcd refused user ${JSON.stringify(trust.username)}: wrong user name or password`, { cause: err });
  }
  if (/user name is empty|user name not found/.test(message)) {
    return new EtcdTrustError('--etcd-username', trust.username, 'etcd has auth enabled and knows no such user; give --etcd-username and --etcd-password, or a client certificate whose CN is an etcd user', { cause: err });
  }
  if (err.constructor.name === 'EtcdPermissionDeniedError' || /permission denied/i.test(message)) {
    const user = trust.username ?? commonName(trust.certFile);
    return new EtcdTrustError(trust.username === undefined ? '--etcd-certfile' : '--etcd-username', user, `etcd user ${JSON.stringify(user ?? '')} may not ${what} (permission denied; see deploy/etcd/roles.sh for each component's role)`, { cause: err });
  }
  return err;
}

function tlsDetail(message: string): string {
  const alert = /alert ([a-z ]+?)(?::|$)/m.exec(message);
  if (alert) return `etcd sent the TLS alert "${alert[1]}"`;
  return message.replace(/^.*Last error: (Error: )?/s, '').replace(/\s*\(\d{4}-\d\d-\d\dT[^)]*\)\.?/, '').replace(/; if the root CA.*$/s, '').split('\n')[0]!.trim();
}

/** Why etcd would refuse this certificate, when the file itself says so. */
function certificateProblem(certFile: string): string {
  try {
    const cert = new X509Certificate(readFileSync(certFile));
    const now = Date.now();
    if (Date.parse(cert.validTo) < now) return `it expired on ${new Date(cert.validTo).toISOString()}`;
    if (Date.parse(cert.validFrom) > now) return `it is not valid before ${new Date(cert.validFrom).toISOString()}`;
    return `it is not signed by a CA etcd trusts (issuer ${cert.issuer.replace(/\n/g, ', ')})`;
  } catch (err) {
    return `it cannot be read (${errorMessage(err)})`;
  }
}

function commonName(certFile: string | undefined): string | undefined {
  if (certFile === undefined) return undefined;
  try {
    return /(?:^|\n)CN=([^\n]*)/.exec(new X509Certificate(readFileSync(certFile)).subject)?.[1];
  } catch {
    return undefined;
  }
}
