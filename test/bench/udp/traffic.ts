// Traffic for the udp bench: iperf3 UDP floods (pps at one packet size, one
// direction) and ping RTT percentiles between two lab pods; CPU time of processes.
import { readFileSync } from 'node:fs';
import { stopChild } from '../../support/process.ts';
import { startIperfServer } from '../../lab/iperf.ts';
import { nsExec } from '../../lab/netns.ts';

export interface Flood {
  /** Received by iperf3 in the pod (the sink, a bottleneck of its own on a small machine). */
  readonly pps: number;
  /** Delivered by the data path into the receiving host's tunnel device; gbps is of this. */
  readonly devicePps: number;
  readonly gbps: number;
  readonly lossPct: number;
  readonly cpuPct: number;
}

/** iperf3 -u -b 0 from clientNs to serverIp (reverse: server → client), packets of `ipBytes` IP bytes, for `seconds`. */
export async function udpFlood(o: {
  serverNs: string; serverIp: string; clientNs: string; ipBytes: number; seconds: number; reverse: boolean;
  /** Processes whose CPU use during the flood is reported (cpuPct, % of one core, summed). */
  pids: readonly number[];
  /** The receiving host's tunnel device (flannel0, flannel.1): its rx count is what the data path delivered. */
  device: { ns: string; dev: string };
}): Promise<Flood> {
  const server = await startIperfServer(o.serverNs, o.serverIp, '5202');
  try {
    const args = ['-c', o.serverIp, '-p', '5202', '-u', '-b', '0', '-l', String(o.ipBytes - 28), '-t', String(o.seconds), '-J', ...(o.reverse ? ['-R'] : [])];
    const cpu = (): number => o.pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
    const rx = async (): Promise<number> => Number((await nsExec(o.device.ns, 'cat', [`/sys/class/net/${o.device.dev}/statistics/rx_packets`])).stdout);
    const [cpu0, rx0, t0] = [cpu(), await rx(), Date.now()];
    const res = await nsExec(o.clientNs, 'iperf3', args, { timeoutMs: (o.seconds + 20) * 1000 });
    const cpuPct = (100 * (cpu() - cpu0)) / ((Date.now() - t0) / 1000);
    const devicePps = ((await rx()) - rx0) / o.seconds;
    const report = JSON.parse(res.stdout) as { error?: string; end?: { sum?: { packets: number; lost_packets: number; seconds: number } } };
    const sum = report.end?.sum;
    if (report.error || !sum) throw new Error(`iperf3 failed: ${report.error ?? res.stderr}`);
    const received = sum.packets - sum.lost_packets;
    const pps = received / sum.seconds;
    return { pps, devicePps, gbps: (devicePps * o.ipBytes * 8) / 1e9, lossPct: sum.packets > 0 ? (100 * sum.lost_packets) / sum.packets : 0, cpuPct };
  } finally {
    await stopChild(server);
  }
}

/** RTT percentiles of `count` pings 5 ms apart. */
export async function pingPercentiles(fromNs: string, to: string, count: number): Promise<{ p50: number; p99: number; lost: number }> {
  const res = await nsExec(fromNs, 'ping', ['-n', '-c', String(count), '-i', '0.005', '-W', '1', to], { timeoutMs: count * 50 + 10_000 });
  const rtts = [...res.stdout.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1])).sort((a, b) => a - b);
  const at = (q: number): number => rtts[Math.min(rtts.length - 1, Math.floor(q * rtts.length))] ?? Number.NaN;
  return { p50: at(0.5), p99: at(0.99), lost: count - rtts.length };
}

/** CPU seconds (user + system) a process has used so far. */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
