// iperf3 between two lab namespaces, and the IP counters that show whether the
// MTU was right (fragments created, ICMP "fragmentation needed" sent).
import type { ChildProcess } from 'node:child_process';
import { collectOutput, spawnTracked, stopChild } from '../support/process.ts';
import { nsExec } from './netns.ts';

export interface IperfResult {
  readonly bitsPerSecond: number;
  readonly retransmits: number;
}

/** Starts an iperf3 server for one test in `ns` on ip:port and waits (10 s at most) until it listens. */
export async function startIperfServer(ns: string, ip: string, port: string): Promise<ChildProcess> {
  const server = spawnTracked('ip', ['netns', 'exec', ns, 'iperf3', '-s', '-1', '--forceflush', '-B', ip, '-p', port]);
  const out = collectOutput(server);
  const deadline = Date.now() + 10_000;
  while (!out.text().includes('Server listening')) {
    if (server.exitCode !== null || Date.now() > deadline) {
      await stopChild(server);
      throw new Error(`iperf3 server did not start: ${out.text()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return server;
}

/** TCP for `seconds` from clientNs to serverIp (iperf3 server in serverNs, one test, then it exits). */
export async function iperf(o: { serverNs: string; serverIp: string; clientNs: string; seconds: number; port?: number }): Promise<IperfResult> {
  const port = String(o.port ?? 5201);
  const server = await startIperfServer(o.serverNs, o.serverIp, port);
  try {
    const res = await nsExec(o.clientNs, 'iperf3', ['-c', o.serverIp, '-p', port, '-t', String(o.seconds), '-J'], {
      timeoutMs: (o.seconds + 20) * 1000,
    });
    const report = JSON.parse(res.stdout) as {
      error?: string;
      end?: { sum_received?: { bits_per_second: number }; sum_sent?: { retransmits?: number } };
    };
    if (report.error || !report.end?.sum_received) throw new Error(`iperf3 failed: ${report.error ?? res.stderr}`);
    return { bitsPerSecond: report.end.sum_received.bits_per_second, retransmits: report.end.sum_sent?.retransmits ?? 0 };
  } finally {
    await stopChild(server);
  }
}

export interface MtuCounters {
  /** Ip FragCreates: packets the namespace had to fragment. */
  readonly fragCreates: number;
  /** Icmp OutDestUnreachs: includes "fragmentation needed" replies to too-big DF packets. */
  readonly destUnreachs: number;
}

/** Reads /proc/net/snmp inside `ns` (the file is per network namespace). */
export async function mtuCounters(ns: string): Promise<MtuCounters> {
  const text = (await nsExec(ns, 'cat', ['/proc/net/snmp'])).stdout;
  const field = (proto: string, name: string): number => {
    const [head, values] = text.split('\n').filter((l) => l.startsWith(`${proto}:`));
    const i = head?.split(/\s+/).indexOf(name) ?? -1;
    return i < 0 ? 0 : Number(values?.split(/\s+/)[i] ?? 0);
  };
  return { fragCreates: field('Ip', 'FragCreates'), destUnreachs: field('Icmp', 'OutDestUnreachs') };
}
