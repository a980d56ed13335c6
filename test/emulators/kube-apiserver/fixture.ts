// Test helpers: an emulator per describe() on the shared etcd under a unique
// key prefix, kubeconfigs and clients for it (client-node, kubectl, raw HTTPS).
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { promisify } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { sharedEtcd, uniquePrefix } from '../../support/etcd.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import { type KubeApiserver, type KubeApiserverOptions, startKubeApiserver } from './server.ts';

export interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  /** The body parsed as JSON (throws if it is not). */
  json<T = Record<string, unknown>>(): T;
}

export interface Harness {
  readonly api: KubeApiserver;
  /** client-node KubeConfig from the admin kubeconfig file. */
  kubeConfig(token?: string): KubeConfig;
  /** A kubeconfig file for `token` (default: the admin's). */
  kubeconfigFor(token: string, name: string): string;
  kubectl(args: readonly string[], opts?: { kubeconfig?: string; timeoutMs?: number }): Promise<{ code: number; stdout: string; stderr: string }>;
  raw(method: string, path: string, opts?: { body?: unknown; contentType?: string; token?: string }): Promise<RawResponse>;
}

/** Inside a describe(): one emulator, started in before() and closed in after(). */
export function kubeHarness(opts: Omit<KubeApiserverOptions, 'etcdEndpoint' | 'prefix'> & { etcdEndpoint?: () => string } = {}): Harness {
  let api: KubeApiserver | undefined;
  let etcd: Awaited<ReturnType<typeof sharedEtcd>> | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'tartan-kube-test-'));
  before(async () => {
    etcd = opts.etcdEndpoint ? undefined : await sharedEtcd();
    api = await startKubeApiserver({ ...opts, etcdEndpoint: opts.etcdEndpoint?.() ?? etcd!.endpoint, prefix: uniquePrefix('kube'), kubeconfigPath: join(dir, 'admin.kubeconfig') });
  });
  after(async () => {
    await api?.close();
    await etcd?.close();
  });
  const current = (): KubeApiserver => {
    if (!api) throw new Error('harness used outside a test');
    return api;
  };
  const kubeconfigFor = (token: string, name: string): string =>
    writeKubeconfig({ path: join(dir, `${name}.kubeconfig`), server: current().endpoint, token, caPem: current().caPem, userName: name });
  return {
    get api() {
      return current();
    },
    kubeConfig: (token) => {
      const kc = new KubeConfig();
      kc.loadFromFile(token ? kubeconfigFor(token, `u${Math.random().toString(36).slice(2, 8)}`) : current().kubeconfigPath);
      return kc;
    },
    kubeconfigFor,
    kubectl: async (args, o = {}) => {
      const all = ['--kubeconfig', o.kubeconfig ?? current().kubeconfigPath, '--cache-dir', join(dir, 'kube-cache'), ...args];
      try {
        const { stdout, stderr } = await promisify(execFile)('kubectl', all, { timeout: o.timeoutMs ?? 20_000 });
        return { code: 0, stdout, stderr };
      } catch (err) {
        const e = err as { code?: number; stdout?: string; stderr?: string };
        return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
      }
    },
    raw: (method, path, o = {}) => rawRequest(current(), method, path, o),
  };
}

export function rawRequest(api: KubeApiserver, method: string, path: string, o: { body?: unknown; contentType?: string; token?: string } = {}): Promise<RawResponse> {
  const body = o.body === undefined ? undefined : typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
  return new Promise((resolve, reject) => {
    const req = request(`${api.endpoint}${path}`, {
      method, ca: api.caPem,
      headers: {
        Authorization: `Bearer ${o.token ?? api.adminToken}`,
        ...(body !== undefined ? { 'Content-Type': o.contentType ?? 'application/json' } : {}),
      },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: <T>() => JSON.parse(text) as T });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

export interface WatchEvent {
  readonly type: string;
  readonly object: { metadata?: { name?: string; resourceVersion?: string; annotations?: Record<string, string> }; code?: number; reason?: string; message?: string; kind?: string };
}

/** A raw watch stream: collects events until the server ends it (or `close()`). */
export function rawWatch(api: KubeApiserver, path: string): { events: WatchEvent[]; ended: Promise<number>; close(): void } {
  const events: WatchEvent[] = [];
  let closeFn = (): void => {};
  const ended = new Promise<number>((resolve, reject) => {
    const req = request(`${api.endpoint}${path}`, { ca: api.caPem, headers: { Authorization: `Bearer ${api.adminToken}` } }, (res) => {
      let partial = '';
      res.on('data', (c: Buffer) => {
        const lines = (partial + c.toString('utf8')).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) if (line.trim()) events.push(JSON.parse(line) as WatchEvent);
      });
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('close', () => resolve(res.statusCode ?? 0));
    });
    closeFn = () => req.destroy();
    req.on('error', (err) => (events.length > 0 ? resolve(0) : reject(err)));
    req.end();
  });
  return { events, ended, close: () => closeFn() };
}

/** Polls `check` every 20 ms until it holds (or fails after `timeoutMs`). */
export async function eventually(check: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
