// The small HTTP server for /healthz, /readyz and /metrics. Bound to what the
// operator says (default 127.0.0.1 for metrics); closed with the root signal.
import { createServer, type Server } from 'node:http';

export type Handler = () => { status: number; body: string; contentType?: string } | Promise<{ status: number; body: string; contentType?: string }>;

export interface HttpServerOptions {
  readonly host: string;
  readonly port: number;
  readonly routes: Readonly<Record<string, Handler>>;
  readonly signal: AbortSignal;
}

export async function startHttpServer(opts: HttpServerOptions): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const handler = opts.routes[path];
    if (!handler || req.method !== 'GET') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    Promise.resolve()
      .then(handler)
      .then((out) => res.writeHead(out.status, { 'content-type': out.contentType ?? 'text/plain' }).end(out.body))
      .catch((err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(err)}\n`));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  // Closed with its signal, keep-alive connections too: an open server must never hold
  // the process after the daemon decided to exit (leadership lost, lease revoked).
  const close = (): void => {
    server.close();
    server.closeAllConnections();
  };
  if (opts.signal.aborted) close();
  else opts.signal.addEventListener('abort', close, { once: true });
  const address = server.address();
  return { server, port: typeof address === 'object' && address ? address.port : opts.port };
}

export function textStatus(ok: boolean, why: string): { status: number; body: string } {
  return { status: ok ? 200 : 503, body: `${ok ? 'ok' : 'not ok'}: ${why}\n` };
}
