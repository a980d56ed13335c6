// The HTTP front, in the apiserver's filter order: admin API aside, then
// injected faults (as max-in-flight / APF would answer), authentication, RBAC,
// and the resource handlers or discovery. Binds 127.0.0.1 only.
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Etcd3 } from 'etcd3';
import { createEtcdClient } from '../../../src/lease/etcd-client.ts';
import { type CallRecord, createAdmin, handleAdmin, type KubeAdmin } from './admin.ts';
import { TokenAuthenticator } from './auth.ts';
import { bootstrap } from './bootstrap.ts';
import { discoveryDocument, isHealthPath } from './discovery.ts';
import { Faults } from './faults.ts';
import { handleResource, type HandlerContext, reply } from './handlers.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import { RbacAuthorizer } from './rbac.ts';
import { requestInfo } from './request-info.ts';
import { ObjectStore } from './store.ts';
import { ApiError, internalError, type JsonObject, pathNotFound, statusBody } from './status.ts';
import { servingCert } from './tls.ts';
import { WatchHub } from './watch.ts';

export interface KubeApiserverOptions {
  /** 0 (default): any free port. */
  readonly port?: number;
  /** etcd client URL; ignored when `etcd` is given. */
  readonly etcdEndpoint?: string;
  /** An etcd client to use (not closed by close()). */
  readonly etcd?: Etcd3;
  /** Key prefix in etcd (default `/registry`); tests pass a unique one. */
  readonly prefix?: string;
  /** The cluster-admin's bearer token (user kubernetes-admin, group system:masters); default random. */
  readonly adminToken?: string;
  /** A --token-auth-file CSV to load. */
  readonly tokenFile?: string;
  /** Where to write the admin kubeconfig (default: a new temp dir). */
  readonly kubeconfigPath?: string;
  /** BOOKMARK period on watches that allow them (default 60 s, as the apiserver's watch cache). */
  readonly bookmarkIntervalMs?: number;
  readonly now?: () => Date;
  /** false: plain HTTP (client-node needs skipTLSVerify; kubectl sends no token over it). Default true. */
  readonly tls?: boolean;
}

export interface KubeApiserver {
  /** `https://127.0.0.1:<port>` (no trailing slash: client-node's Watch appends paths). */
  readonly endpoint: string;
  /** The CA (self-signed serving certificate) to trust; undefined over plain HTTP. */
  readonly caPem: string | undefined;
  readonly port: number;
  readonly adminToken: string;
  /** An admin kubeconfig (insecure-skip-tls-verify, bearer token). */
  readonly kubeconfigPath: string;
  readonly admin: KubeAdmin;
  readonly store: ObjectStore;
  close(): Promise<void>;
}

interface Front {
  readonly ctx: HandlerContext;
  readonly auth: TokenAuthenticator;
  readonly rbac: RbacAuthorizer;
  readonly faults: Faults;
  readonly admin: KubeAdmin;
  readonly calls: CallRecord[];
  serverAddress: string;
}

export async function startKubeApiserver(opts: KubeApiserverOptions = {}): Promise<KubeApiserver> {
  const client = opts.etcd ?? createEtcdClient({ endpoints: [opts.etcdEndpoint ?? 'http://127.0.0.1:2379'] });
  const store = new ObjectStore({ client, prefix: opts.prefix ?? '/registry' });
  const auth = new TokenAuthenticator();
  const adminToken = opts.adminToken ?? `admin-${Math.random().toString(36).slice(2)}`;
  auth.add(adminToken, { name: 'kubernetes-admin', groups: ['system:masters'] });
  if (opts.tokenFile) auth.loadFile(opts.tokenFile);
  await bootstrap(store, opts.now ?? (() => new Date()));
  const hub = new WatchHub();
  const faults = new Faults();
  const calls: CallRecord[] = [];
  const ctx: HandlerContext = {
    store, hub, now: opts.now ?? (() => new Date()), bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 60_000,
    defaultWatchTimeoutMs: () => (1800 + Math.random() * 1800) * 1000,
  };
  const admin = createAdmin({ auth, faults, hub, store, calls });
  const front: Front = { ctx, auth, rbac: new RbacAuthorizer({ store }), faults, admin, calls, serverAddress: '' };
  const handler = (req: IncomingMessage, res: ServerResponse): void => void serve(front, req, res);
  const cert = opts.tls === false ? undefined : await servingCert();
  const server = cert ? createHttpsServer({ cert: cert.certPem, key: cert.keyPem }, handler) : createHttpServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const endpoint = `${cert ? 'https' : 'http'}://127.0.0.1:${port}`;
  front.serverAddress = `127.0.0.1:${port}`;
  const kubeconfigPath = writeKubeconfig({
    path: opts.kubeconfigPath ?? join(mkdtempSync(join(tmpdir(), 'tartan-kube-')), 'kubeconfig'), server: endpoint, token: adminToken, caPem: cert?.certPem,
  });
  return {
    endpoint, caPem: cert?.certPem, port, adminToken, kubeconfigPath, admin, store,
    close: async () => {
      hub.dropAll();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (!opts.etcd) client.close();
    },
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function serve(front: Front, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const method = req.method ?? 'GET';
  const body = await readBody(req);
  if (url.pathname.startsWith('/_admin/')) return serveAdmin(front, method, url.pathname, body, res);
  let user = '';
  res.once('finish', () => front.calls.push({ method, path: `${url.pathname}${url.search}`, user, status: res.statusCode }));
  try {
    if (front.faults.latencyMs > 0) await new Promise((r) => setTimeout(r, front.faults.latencyMs));
    const fault = front.faults.take();
    if (fault) throw fault;
    const who = front.auth.authenticate(req.headers.authorization);
    user = who.name;
    const info = requestInfo(method, url);
    await front.rbac.authorize(who, info);
    if (info.kind === 'resource') {
      await handleResource(front.ctx, { info, url, contentType: req.headers['content-type'], body, res });
      return;
    }
    if (isHealthPath(url.pathname)) {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' }).end('ok');
      return;
    }
    const doc = method === 'GET' ? discoveryDocument(url.pathname, front.serverAddress) : undefined;
    if (doc === undefined) throw pathNotFound();
    reply(res, 200, doc);
  } catch (err) {
    answerError(res, err);
  }
}

function answerError(res: ServerResponse, err: unknown): void {
  const apiError = err instanceof ApiError ? err : internalError(err instanceof Error ? err.message : String(err));
  if (res.headersSent) {
    res.end();
    return;
  }
  if (apiError.fields.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(apiError.fields.retryAfterSeconds));
  reply(res, apiError.code, statusBody(apiError.fields));
}

async function serveAdmin(front: Front, method: string, path: string, body: string, res: ServerResponse): Promise<void> {
  try {
    const parsed = body ? (JSON.parse(body) as JsonObject) : {};
    reply(res, 200, await handleAdmin(front.admin, method, path, parsed));
  } catch (err) {
    reply(res, 400, { error: err instanceof Error ? err.message : String(err) });
  }
}
