// A byte relay between a TCP address and a Unix socket: how the hybrid lab lets
// processes in different network namespaces talk without a single route, link or
// address in the root namespace. A Unix socket is a file, and files are not
// namespaced: a relay inside a namespace listens on TCP there and connects to the
// socket; a relay in the root namespace listens on the socket and connects to
// 127.0.0.1. Byte for byte, so HTTP/2 (etcd's gRPC) and HTTP/1 both pass.
//
// In-process: startRelay({ listen, connect }). As a process inside a namespace:
//   ip netns exec <ns> node test/lab/relay.ts --listen tcp:10.10.255.1:2379 --connect unix:/tmp/…/etcd.sock
// prints one JSON line `{"listening":…}` when ready and stops on SIGTERM.
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { type Server, type Socket, connect, createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { spawnReady, stopChild } from '../support/process.ts';

export type RelayEndpoint = { readonly host: string; readonly port: number } | { readonly path: string };

export interface Relay {
  close(): Promise<void>;
}

export function parseRelayEndpoint(text: string): RelayEndpoint {
  if (text.startsWith('unix:')) return { path: text.slice(5) };
  const m = /^tcp:(.+):(\d+)$/.exec(text);
  if (!m) throw new Error(`relay endpoint ${JSON.stringify(text)}: use tcp:<host>:<port> or unix:<path>`);
  return { host: m[1]!, port: Number(m[2]) };
}

export async function startRelay(o: { listen: RelayEndpoint; connect: RelayEndpoint }): Promise<Relay> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((down) => {
    const up = 'path' in o.connect ? connect(o.connect.path) : connect(o.connect.port, o.connect.host);
    for (const s of [down, up]) {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
      s.setNoDelay?.(true);
    }
    down.on('error', () => up.destroy());
    up.on('error', () => down.destroy());
    down.pipe(up);
    up.pipe(down);
  });
  if ('path' in o.listen) rmSync(o.listen.path, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if ('path' in o.listen) server.listen(o.listen.path, () => resolve());
    else server.listen(o.listen.port, o.listen.host, () => resolve());
  });
  return {
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const SELF = fileURLToPath(import.meta.url);

/**
 * A TCP port of 127.0.0.1 in the root namespace, reachable inside network namespaces:
 * a relay process in each namespace listens on `listen` there (`tcp:<ip>:<port>`), all
 * joined through the Unix socket `socket` to one relay here that connects to the port.
 * close() stops every relay and removes the socket.
 */
export async function bridgeIntoNamespaces(o: { socket: string; port: number; inside: readonly { ns: string; listen: string }[] }): Promise<{ close(): Promise<void> }> {
  const root = await startRelay({ listen: { path: o.socket }, connect: { host: '127.0.0.1', port: o.port } });
  const children: ChildProcess[] = [];
  const close = async (): Promise<void> => {
    await Promise.all(children.splice(0).map((c) => stopChild(c)));
    await root.close();
    rmSync(o.socket, { force: true });
  };
  try {
    for (const i of o.inside) {
      children.push((await spawnReady(['ip', 'netns', 'exec', i.ns, process.execPath, SELF, '--listen', i.listen, '--connect', `unix:${o.socket}`])).child);
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { close };
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { listen: { type: 'string' }, connect: { type: 'string' } } });
  if (!values.listen || !values.connect) throw new Error('usage: relay.ts --listen <endpoint> --connect <endpoint>');
  const relay = await startRelay({ listen: parseRelayEndpoint(values.listen), connect: parseRelayEndpoint(values.connect) });
  process.stdout.write(`${JSON.stringify({ listening: values.listen, connect: values.connect })}\n`);
  const stop = (): void => {
    relay.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
