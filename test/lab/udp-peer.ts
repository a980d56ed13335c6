// Drives udp-peer-child.ts (a byte-level flannel udp host) inside a lab namespace.
import { fileURLToPath } from 'node:url';
import { collectOutput, spawnTracked, stopChild } from '../support/process.ts';

const CHILD = fileURLToPath(new URL('./udp-peer-child.ts', import.meta.url));

export interface Datagram {
  readonly from: string;
  readonly port: number;
  readonly length: number;
  readonly src: string;
  readonly dst: string;
  readonly ttl: number;
  readonly proto: number;
  readonly icmpType?: number | undefined;
  readonly headerChecksumOk: boolean;
  readonly hex: string;
}

export interface UdpPeer {
  /** Every datagram received so far. */
  datagrams(): Datagram[];
  /** Sends one raw ICMP echo request (IPv4 in UDP, nothing else) to host:port. */
  ping(o: { src: string; dst: string; host: string; ttl?: number }): void;
  /** Waits (bounded) for a datagram matching `pred`. */
  waitFor(pred: (d: Datagram) => boolean, timeoutMs: number): Promise<Datagram | undefined>;
  stop(): Promise<void>;
}

export async function startUdpPeer(ns: string, address: string, port = 8285): Promise<UdpPeer> {
  const child = spawnTracked('ip', ['netns', 'exec', ns, process.execPath, CHILD, address, String(port)], { stdio: ['pipe', 'pipe', 'pipe'] });
  const out = collectOutput(child);
  const deadline = Date.now() + 10_000;
  while (!out.lines.includes('ready')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the udp peer did not start: ${out.text()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const datagrams = (): Datagram[] => out.lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Datagram);
  return {
    datagrams,
    ping: (o) => child.stdin?.write(`ping ${o.src} ${o.dst} ${o.host} ${o.ttl ?? 64}\n`),
    waitFor: async (pred, timeoutMs) => {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const hit = datagrams().find(pred);
        if (hit || Date.now() > end) return hit;
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    stop: async () => {
      child.stdin?.end();
      await stopChild(child);
    },
  };
}
