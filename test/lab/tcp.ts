// A tiny TCP service for ip-masq checks: it answers every connection with the
// peer address it sees, then closes. Runs in a namespace, stopped by PID.
import { once } from 'node:events';
import type { ChildProcess } from 'node:child_process';
import { collectOutput, spawnTracked, stopChild } from '../support/process.ts';
import { nsExec } from './netns.ts';

const SERVER = `
const net = require('node:net');
const [host, port] = process.argv.slice(1);
const server = net.createServer((s) => { s.end(s.remoteAddress + '\\n'); });
server.listen(Number(port), host, () => console.log('listening'));
setTimeout(() => process.exit(0), 120000).unref();
`;

const CLIENT = `
const net = require('node:net');
const [host, port] = process.argv.slice(1);
const s = net.connect({ host, port: Number(port), timeout: 1000 });
s.on('data', (d) => process.stdout.write(d));
s.on('timeout', () => { console.error('timeout'); process.exit(2); });
s.on('error', (e) => { console.error(e.message); process.exit(1); });
`;

export interface PeerAddressServer {
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts the service on host:port inside `ns` and waits until it listens. */
export async function startPeerAddressServer(ns: string, host: string, port: number): Promise<PeerAddressServer> {
  const child = spawnTracked('ip', ['netns', 'exec', ns, process.execPath, '-e', SERVER, host, String(port)]);
  const out = collectOutput(child);
  const deadline = Date.now() + 10_000;
  while (!out.lines.includes('listening')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`peer-address server in ${ns} did not start: ${out.text()}`);
    await Promise.race([once(child.stdout!, 'data'), new Promise((r) => setTimeout(r, 50))]);
  }
  return { child, stop: async () => void (await stopChild(child)) };
}

/** Connects from `ns`; resolves with the address the server saw, or undefined if it could not connect. */
export async function peerAddressSeenBy(ns: string, host: string, port: number): Promise<string | undefined> {
  const res = await nsExec(ns, process.execPath, ['-e', CLIENT, host, String(port)], { timeoutMs: 10_000 });
  return res.code === 0 ? res.stdout.trim() : undefined;
}
