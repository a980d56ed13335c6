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
  /** Stops etcd (SIGTERM by PID) and keeps its data for restart(). */
  stop(): Promise<void>;
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
}

export async function startEtcd(opts: EtcdOptions = {}): Promise<EtcdServer> {
  const host = opts.host ?? '127.0.0.1';
  const clientPort = opts.clientPort ?? (await freePort());
  const peerPort = opts.peerPort ?? (await freePort());
  const dataDir = mkdtempSync(join(tmpdir(), 'tartan-etcd-'));
  const endpoint = `http://${host}:${clientPort}`;
  let child: ChildProcess | undefined;

  const launch = async (): Promise<void> => {
    const args = [
      '--name', 'tartan-test', '--data-dir', dataDir,
      '--listen-client-urls', endpoint, '--advertise-client-urls', endpoint,
      '--listen-peer-urls', `http://${host}:${peerPort}`,
      '--initial-advertise-peer-urls', `http://${host}:${peerPort}`,
      '--initial-cluster', `tartan-test=http://${host}:${peerPort}`,
      '--log-level', 'error', '--logger', 'zap',
    ];
    const started = opts.netns ? spawnTracked('ip', ['netns', 'exec', opts.netns, 'etcd', ...args]) : spawnTracked('etcd', args);
    const output = collectOutput(started);
    child = started;
    await waitHealthy(endpoint, started, () => output.text(), opts.netns);
  };

  await launch();
  return {
    endpoint,
    dataDir,
    pid: () => child?.pid,
    stop: async () => {
      if (child) await stopChild(child);
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

async function waitHealthy(endpoint: string, child: ChildProcess, output: () => string, netns?: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`etcd exited with ${child.exitCode}: ${output()}`);
    if (await healthy(endpoint, netns)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  await stopChild(child, 'SIGKILL');
  throw new Error(`etcd at ${endpoint} did not become healthy in 20 s: ${output()}`);
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
