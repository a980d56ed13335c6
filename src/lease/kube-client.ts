// The few Kubernetes API calls tartan makes, over HTTPS with the credentials and TLS
// settings of a kubeconfig file, --kube-api-url or the pod's in-cluster ServiceAccount
// (kube-config.ts; client-node's KubeConfig where a kubeconfig needs an exec plugin). Requests are raw JSON rather than client-node's generated
// API because a 5,000-node list is read a page at a time and each Node is cut down to
// a few fields as it arrives (real Nodes carry kilobytes of status and images), and
// because a watch must end only at the server's timeout or on silence we choose, not
// on client-node's 30 s inactivity timer (kubernetes.md §6).
//
// Every request has a deadline; errors are KubeApiError with the HTTP status and the
// apiserver's Status reason and message.
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, type RequestOptions, request as httpsRequest } from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { KubeConfig } from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import { InvalidInputError, RetryableError } from '../errors.ts';
import type { KubeEndpoint } from './kube-config.ts';

export const DEFAULT_KUBE_CALL_TIMEOUT_MS = 10_000;

/** The apiserver answered with an error Status (or not at all, status 0). */
export class KubeApiError extends RetryableError {
  readonly status: number;
  readonly reason: string;
  /** Seconds the server asked us to wait (429, 503 Retry-After). */
  readonly retryAfterSeconds: number | undefined;
  constructor(what: string, status: number, reason: string, message: string, retryAfterSeconds?: number) {
    super(`${what}: ${status === 0 ? '' : `${status} ${reason}: `}${message}`);
    this.name = 'KubeApiError';
    this.status = status;
    this.reason = reason;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export type PatchType = 'strategic' | 'merge' | 'json';

const PATCH_CONTENT: Readonly<Record<PatchType, string>> = {
  strategic: 'application/strategic-merge-patch+json',
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
};

export interface KubeRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path and query, e.g. `/api/v1/nodes?limit=500`. */
  readonly path: string;
  readonly body?: unknown;
  readonly patch?: PatchType | undefined;
  readonly signal: AbortSignal;
  readonly timeoutMs?: number | undefined;
}

export interface KubeStreamRequest {
  readonly path: string;
  readonly signal: AbortSignal;
  /** Ends the stream when nothing (not even a bookmark) arrives for this long. */
  readonly idleTimeoutMs: number;
  readonly onLine: (line: string) => void;
}

/** What the lease store, the elector's neighbours and the events need from the API. */
export interface KubeApi {
  request<T = unknown>(req: KubeRequest): Promise<T>;
  /** A watch: newline-delimited JSON until the server ends it, the signal aborts or it stays silent too long. */
  stream(req: KubeStreamRequest): Promise<void>;
  /** The server URL (for messages). */
  readonly server: string;
}

/** Credentials and TLS settings as request options; asked again every minute (rotating tokens). */
type OptionsSource = () => Promise<RequestOptions>;
const OPTIONS_TTL_MS = 60_000;

export class KubeClient implements KubeApi {
  readonly server: string;
  readonly #source: OptionsSource;
  readonly #timeoutMs: number;
  readonly #agent: HttpAgent | HttpsAgent;
  readonly #https: boolean;
  #base: { at: number; options: Promise<RequestOptions> } | undefined;

  /** From a lean endpoint (kube-config.ts), or from client-node's KubeConfig (exec plugins, auth providers). */
  constructor(from: KubeEndpoint | KubeConfig, opts: { timeoutMs?: number } = {}) {
    if ('getCurrentCluster' in from) {
      const cluster = from.getCurrentCluster();
      if (!cluster) throw new InvalidInputError('--kubeconfig-file', undefined, 'has no current cluster (current-context names no cluster)');
      this.server = cluster.server.replace(/\/+$/, '');
      this.#source = async () => {
        const o: RequestOptions = {};
        await from.applyToHTTPSOptions(o);
        return o;
      };
    } else {
      this.server = from.server.replace(/\/+$/, '');
      this.#source = async () => endpointOptions(from);
    }
    this.#https = this.server.startsWith('https:');
    this.#timeoutMs = opts.timeoutMs ?? DEFAULT_KUBE_CALL_TIMEOUT_MS;
    this.#agent = this.#https ? new HttpsAgent({ keepAlive: true, maxSockets: 32 }) : new HttpAgent({ keepAlive: true, maxSockets: 32 });
  }

  async request<T = unknown>(req: KubeRequest): Promise<T> {
    const what = `${req.method} ${req.path.split('?')[0]}`;
    const body = req.body === undefined ? undefined : JSON.stringify(req.body);
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = req.patch ? PATCH_CONTENT[req.patch] : 'application/json';
    const timeoutMs = req.timeoutMs ?? this.#timeoutMs;
    const signal = AbortSignal.any([req.signal, AbortSignal.timeout(timeoutMs)]);
    const res = await this.#send(req.method, req.path, headers, body, signal, what, timeoutMs);
    const text = await readAll(res, signal, what, timeoutMs);
    const status = res.statusCode ?? 0;
    if (status >= 200 && status < 300) return (text === '' ? undefined : JSON.parse(text)) as T;
    throw statusError(what, status, text, res.headers['retry-after']);
  }

  async stream(req: KubeStreamRequest): Promise<void> {
    const what = `watch ${req.path.split('?')[0]}`;
    const controller = new AbortController();
    const signal = AbortSignal.any([req.signal, controller.signal]);
    // The deadline covers the answer's headers only: a watch then runs until the server
    // ends it (its timeoutSeconds) or stays silent past idleTimeoutMs. (A timeout signal
    // left in the request would end every watch after timeoutMs.)
    const answered = new AbortController();
    const deadline = setTimeout(() => answered.abort(new DOMException(`no answer within ${this.#timeoutMs} ms`, 'TimeoutError')), this.#timeoutMs);
    let res: IncomingMessage;
    try {
      res = await this.#send('GET', req.path, { Accept: 'application/json' }, undefined, AbortSignal.any([signal, answered.signal]), what, this.#timeoutMs);
    } finally {
      clearTimeout(deadline);
    }
    if ((res.statusCode ?? 0) !== 200) {
      const text = await readAll(res, signal, what, this.#timeoutMs);
      throw statusError(what, res.statusCode ?? 0, text, res.headers['retry-after']);
    }
    let idle: NodeJS.Timeout | undefined;
    const arm = (): void => {
      clearTimeout(idle);
      idle = setTimeout(() => controller.abort(new KubeApiError(what, 0, 'Timeout', `nothing received for ${req.idleTimeoutMs} ms`)), req.idleTimeoutMs);
    };
    arm();
    let rest = '';
    try {
      res.setEncoding('utf8');
      for await (const chunk of res.iterator({ destroyOnReturn: true }) as AsyncIterable<string>) {
        if (signal.aborted) break;
        arm();
        rest += chunk;
        let nl = rest.indexOf('\n');
        while (nl >= 0) {
          const line = rest.slice(0, nl).trim();
          rest = rest.slice(nl + 1);
          if (line !== '') req.onLine(line);
          nl = rest.indexOf('\n');
        }
      }
      if (rest.trim() !== '') req.onLine(rest.trim());
    } catch (err) {
      if (!signal.aborted) throw new KubeApiError(what, 0, 'StreamError', (err as Error).message);
    } finally {
      clearTimeout(idle);
      res.destroy();
    }
    if (controller.signal.aborted && !req.signal.aborted) throw controller.signal.reason as Error;
  }

  close(): void {
    this.#agent.destroy();
  }

  async #options(): Promise<RequestOptions> {
    const now = Date.now();
    if (!this.#base || now - this.#base.at > OPTIONS_TTL_MS) {
      const options = this.#source();
      options.catch(() => {});
      this.#base = { at: now, options };
    }
    try {
      return await this.#base.options;
    } catch (err) {
      this.#base = undefined;
      throw err;
    }
  }

  async #send(method: string, path: string, headers: Record<string, string>, body: string | undefined, signal: AbortSignal, what: string, timeoutMs: number): Promise<IncomingMessage> {
    const base = await this.#options();
    const url = new URL(`${this.server}${path}`);
    const opts: RequestOptions = {
      ...base,
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port,
      path: `${url.pathname}${url.search}`,
      headers: { ...(base.headers as Record<string, string> | undefined), ...headers, ...(body !== undefined ? { 'Content-Length': String(Buffer.byteLength(body)) } : {}) },
      agent: this.#agent,
      signal,
    };
    return new Promise<IncomingMessage>((resolve, reject) => {
      const req = (this.#https ? httpsRequest : httpRequest)(opts, resolve);
      req.on('error', (err) => reject(signal.aborted && !isCallerAbort(signal)
        ? new KubeApiError(what, 0, 'Timeout', `no answer within ${timeoutMs} ms`)
        : new KubeApiError(what, 0, 'ConnectionError', err.message)));
      if (body !== undefined) req.write(body);
      req.end();
    });
  }
}

function endpointOptions(ep: KubeEndpoint): RequestOptions {
  let token = ep.token;
  if (ep.tokenFile) {
    try {
      token = readFileSync(ep.tokenFile, 'utf8').trim();
    } catch (err) {
      throw new InvalidInputError('token file', ep.tokenFile, `cannot be read: ${(err as Error).message}`, { cause: err });
    }
  }
  return {
    ...(ep.ca ? { ca: ep.ca } : {}),
    ...(ep.cert ? { cert: ep.cert } : {}),
    ...(ep.key ? { key: ep.key } : {}),
    rejectUnauthorized: ep.insecureSkipTlsVerify !== true,
    ...(token ? { headers: { Authorization: `Bearer ${token}` } } : {}),
  };
}

/** Aborted by the caller (its own reason), not by our deadline (a TimeoutError). */
function isCallerAbort(signal: AbortSignal): boolean {
  return signal.reason instanceof Error && signal.reason.name !== 'TimeoutError';
}

async function readAll(res: IncomingMessage, signal: AbortSignal, what: string, timeoutMs: number): Promise<string> {
  res.setEncoding('utf8');
  let text = '';
  try {
    for await (const chunk of res as AsyncIterable<string>) text += chunk;
  } catch (err) {
    throw signal.aborted ? new KubeApiError(what, 0, 'Timeout', `no whole answer within ${timeoutMs} ms`) : new KubeApiError(what, 0, 'StreamError', (err as Error).message);
  }
  return text;
}

function statusError(what: string, status: number, text: string, retryAfter: string | string[] | undefined): KubeApiError {
  let reason = '';
  let message = text.slice(0, 300);
  try {
    const s = JSON.parse(text) as { reason?: unknown; message?: unknown };
    if (typeof s.reason === 'string') reason = s.reason;
    if (typeof s.message === 'string') message = s.message;
  } catch { /* not a Status: keep the text */ }
  const seconds = Number(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter);
  return new KubeApiError(what, status, reason || String(status), message, Number.isFinite(seconds) && seconds > 0 ? seconds : undefined);
}

/** 401/403: credentials or RBAC — retrying will not help until someone changes them (still retried: RBAC can be fixed live). */
export function isForbidden(err: unknown): boolean {
  return err instanceof KubeApiError && (err.status === 401 || err.status === 403);
}
