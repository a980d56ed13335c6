// A real etcd (the distro's etcd-server package) on a random 127.0.0.1 port, or
// on an address inside a test namespace. Started by PID, stopped by PID.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { after, before } from 'node:test';
import type { Etcd3 } from 'etcd3';
import { createEtcdClient } from '../../src/lease/etcd-client.ts';
import { freePort } from './ports.ts';
import { collectOutput, spawnTracked, stopChild } from './process.ts';

export interface EtcdServer {
  readonly endpoint: string;
  readonly dataDir: string;
  /** PID of the running etcd (changes after restart). */
  pid(): number | undefined;
  /** What etcd printed since it last started (see EtcdOptions.logLevel). */
  output(): string;
  /** Stops etcd (SIGTERM by PID, or `signal`: SIGKILL for a crash) and keeps its data for restart(). */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts etcd again on the same port with the same data. */
  restart(): Promise<void>;
  /** Stops etcd and deletes its data. */
  destroy(): Promise<void>;
}

export interface EtcdOptions {
  /** Run inside this network namespace (ip netns exec). */
  readonly netns?: string;
  /** Address to bind; default 127.0.0.1. */
  readonly host?: string;
  readonly clientPort?: number;
  readonly peerPort?: number;
  /** Serve clients over https with these files; `clientCertAuth` demands a client certificate signed by `ca`. */
  readonly tls?: { readonly ca: string; readonly cert: string; readonly key: string; readonly clientCertAuth?: boolean };
  /** A client certificate for the health probe (when `tls.clientCertAuth`). */
  readonly probeCert?: { readonly cert: string; readonly key: string };
  /** Member name and the whole --initial-cluster (a multi-member cluster; see startEtcdCluster). */
  readonly member?: { readonly name: string; readonly initialCluster: string };
  /** Do not wait for /health (a member of a cluster that has no quorum yet). */
  readonly noWait?: boolean;
  /** etcd's --log-level (default error); warn shows each rejected TLS handshake. */
  readonly logLevel?: 'debug' | 'info' | 'warn' | 'error';
}

export async function startEtcd(opts: EtcdOptions = {}): Promise<EtcdServer> {
  const host = opts.host ?? '127.0.0.1';
  const clientPort = opts.clientPort ?? (await freePort());
  const peerPort = opts.peerPort ?? (await freePort());
  const dataDir = mkdtempSync(join(tmpdir(), 'tartan-etcd-'));
  const endpoint = `${opts.tls ? 'https' : 'http'}://${host}:${clientPort}`;
  let child: ChildProcess | undefined;
  let output: { text(): string } | undefined;
  const name = opts.member?.name ?? 'tartan-test';
  const tlsArgs = opts.tls
    ? ['--trusted-ca-file', opts.tls.ca, '--cert-file', opts.tls.cert, '--key-file', opts.tls.key, ...(opts.tls.clientCertAuth ? ['--client-cert-auth'] : [])]
    : [];
  const probe = opts.tls ? { ca: opts.tls.ca, ...opts.probeCert } : undefined;

  const launch = async (): Promise<void> => {
    const args = [
      '--name', name, '--data-dir', dataDir,
      '--listen-client-urls', endpoint, '--advertise-client-urls', endpoint,
      '--listen-peer-urls', `http://${host}:${peerPort}`,
      '--initial-advertise-peer-urls', `http://${host}:${peerPort}`,
      '--initial-cluster', opts.member?.initialCluster ?? `${name}=http://${host}:${peerPort}`,
      ...tlsArgs,
      '--log-level', opts.logLevel ?? 'error', '--logger', 'zap',
    ];
    const started = opts.netns ? spawnTracked('ip', ['netns', 'exec', opts.netns, 'etcd', ...args]) : spawnTracked('etcd', args);
    const collected = collectOutput(started);
    output = collected;
    child = started;
    if (!opts.noWait) await waitHealthy(endpoint, started, () => collected.text(), opts.netns, probe);
  };

  await launch();
  return {
    endpoint,
    dataDir,
    pid: () => child?.pid,
    output: () => output?.text() ?? '',
    stop: async (signal?: NodeJS.Signals) => {
      if (child) await stopChild(child, signal);
      child = undefined;
    },
    restart: async () => {
      if (child) await stopChild(child);
      await launch();
    },
    destroy: async () => {
      if (child) await stopChild(child);
      child = undefined;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

interface Probe {
  readonly ca: string;
  readonly cert?: string;
  readonly key?: string;
}

async function waitHealthy(endpoint: string, child: ChildProcess, output: () => string, netns?: string, probe?: Probe): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`etcd exited with ${child.exitCode}: ${output()}`);
    if (probe ? await healthyTls(endpoint, probe) : await healthy(endpoint, netns)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  await stopChild(child, 'SIGKILL');
  throw new Error(`etcd at ${endpoint} did not become healthy in 20 s: ${output()}`);
}

/** `/health` over https with curl (fetch cannot present a client certificate). */
async function healthyTls(endpoint: string, probe: Probe): Promise<boolean> {
  const { execFile } = await import('node:child_process');
  const cert = probe.cert && probe.key ? ['--cert', probe.cert, '--key', probe.key] : [];
  return await new Promise((resolve) => {
    execFile('curl', ['-sf', '--max-time', '1', '--cacert', probe.ca, ...cert, `${endpoint}/health`], (err) => resolve(!err));
  });
}

export interface EtcdCluster {
  readonly members: readonly EtcdServer[];
  readonly endpoints: readonly string[];
  /** The index of the member that leads the raft group now (asked with etcdctl). */
  leaderIndex(): Promise<number>;
  destroy(): Promise<void>;
}

/**
 * `size` etcd members on 127.0.0.1, each with its own client and peer port, one
 * raft cluster (--initial-cluster names all of them). Members are stopped and
 * restarted by PID through `members[i]`.
 */
export async function startEtcdCluster(size = 3): Promise<EtcdCluster> {
  const ports = [];
  for (let i = 0; i < size; i++) ports.push({ client: await freePort(), peer: await freePort() });
  const initialCluster = ports.map((p, i) => `m${i}=http://127.0.0.1:${p.peer}`).join(',');
  const members = await Promise.all(ports.map((p, i) => startEtcd({
    clientPort: p.client, peerPort: p.peer, member: { name: `m${i}`, initialCluster }, noWait: true,
  })));
  const endpoints = members.map((m) => m.endpoint);
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const status = async (): Promise<{ leader: string; ids: string[] }> => {
    // Only the members that answer: a stopped one is left out (etcdctl then exits 1 but prints the rest).
    const { stdout } = await promisify(execFile)('etcdctl', ['--endpoints', endpoints.join(','), '--command-timeout', '2s', 'endpoint', 'status', '-w', 'json'], { env: { ...process.env, ETCDCTL_API: '3' } })
      .catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? '[]' }));
    const rows = JSON.parse(stdout) as { Endpoint: string; Status: { header: { member_id: number | string }; leader: number | string } }[];
    const byEndpoint = new Map(rows.map((r) => [r.Endpoint, r]));
    const leader = String(rows[0]?.Status.leader ?? '');
    return { leader, ids: endpoints.map((e) => String(byEndpoint.get(e)?.Status.header.member_id ?? '')) };
  };
  const cluster: EtcdCluster = {
    members, endpoints,
    leaderIndex: async () => {
      const s = await status();
      return s.ids.indexOf(s.leader);
    },
    destroy: async () => {
      for (const m of members) await m.destroy();
    },
  };
  try {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const ok = await Promise.all(endpoints.map((e) => healthy(e)));
      if (ok.every(Boolean)) return cluster;
      if (Date.now() > deadline) throw new Error(`etcd cluster ${endpoints.join(',')} not healthy in 20 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (err) {
    await cluster.destroy();
    throw err;
  }
}

async function healthy(endpoint: string, netns?: string): Promise<boolean> {
  if (netns) {
    const { execFile } = await import('node:child_process');
    return await new Promise((resolve) => {
      execFile('ip', ['netns', 'exec', netns, 'curl', '-sf', '--max-time', '1', `${endpoint}/health`], (err) => resolve(!err));
    });
  }
  try {
    const res = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(1000) });
    return res.ok;
  } catch {
    return false;
  }
}

/**
 * The etcd every test file shares: the one test/run.ts started (TARTAN_TEST_ETCD),
 * or a private one when a file runs on its own. Tests isolate by key prefix.
 */
export async function sharedEtcd(): Promise<{ endpoint: string; close(): Promise<void> }> {
  const given = process.env.TARTAN_TEST_ETCD;
  if (given) return { endpoint: given, close: async () => {} };
  const server = await startEtcd();
  return { endpoint: server.endpoint, close: () => server.destroy() };
}

let counter = 0;
/** A key prefix no other test uses. */
export function uniquePrefix(label: string): string {
  counter += 1;
  return `/tartan-test/${label}-${process.pid}-${counter}-${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * Inside a describe(): the shared etcd and one client for it, opened in before()
 * and closed in after(). Read `.client` / `.endpoint` inside tests only.
 */
export function etcdClientFixture(): { readonly client: Etcd3; readonly endpoint: string } {
  let etcd: Awaited<ReturnType<typeof sharedEtcd>> | undefined;
  let client: Etcd3 | undefined;
  before(async () => {
    etcd = await sharedEtcd();
    client = createEtcdClient({ endpoints: [etcd.endpoint] });
  });
  after(async () => {
    client?.close();
    await etcd?.close();
  });
  return {
    get client(): Etcd3 {
      if (!client) throw new Error('etcd fixture used outside a test');
      return client;
    },
    get endpoint(): string {
      if (!etcd) throw new Error('etcd fixture used outside a test');
      return etcd.endpoint;
    },
  };
}
