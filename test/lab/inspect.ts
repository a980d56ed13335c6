// Reads a lab namespace's kernel state with plain `ip -json` / `bridge -json`, on
// purpose independent of src/kernel, so tests check the kernel and not our parser.
// Also watches for kernel changes (`ip monitor`) to prove that nothing was touched.
import { collectOutput, spawnTracked, stopChild } from '../support/process.ts';
import { nsExec, runChecked } from './netns.ts';

export interface RawRoute {
  dst: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  flags?: string[];
}
export interface RawNeigh {
  dst: string;
  lladdr?: string;
  state?: string[];
}
export interface RawFdb {
  mac: string;
  dst?: string;
  state?: string;
}
export interface RawLink {
  ifindex: number;
  ifname: string;
  address: string;
  mtu: number;
}

async function json<T>(args: string[], tool = 'ip'): Promise<T[]> {
  const out = await runChecked(tool, args);
  return out.trim() === '' ? [] : (JSON.parse(out) as T[]);
}

/** Every route in table main (any protocol), IPv4 or IPv6. */
export function routes(ns: string, family: 4 | 6 = 4): Promise<RawRoute[]> {
  return json<RawRoute>(['-n', ns, `-${family}`, '-json', 'route', 'show', 'table', 'main']);
}

export function neighs(ns: string, dev: string): Promise<RawNeigh[]> {
  return json<RawNeigh>(['-n', ns, '-json', 'neigh', 'show', 'dev', dev, 'nud', 'permanent']);
}

export function fdbs(ns: string, dev: string): Promise<RawFdb[]> {
  return json<RawFdb>(['-n', ns, '-json', 'fdb', 'show', 'dev', dev], 'bridge');
}

export async function link(ns: string, dev: string): Promise<RawLink | undefined> {
  const res = await nsExec(ns, 'ip', ['-json', 'link', 'show', 'dev', dev]);
  if (res.code !== 0) return undefined;
  return (JSON.parse(res.stdout) as RawLink[])[0];
}

/** The route to exactly `dst` (as iproute2 prints it), if any. */
export function routeTo(list: readonly RawRoute[], dst: string): RawRoute | undefined {
  return list.find((r) => r.dst === dst);
}

/**
 * Records every route, neigh, link and fdb change in `ns` until stop(). Canaries
 * prove both monitors live before anything is recorded and drained at stop: a
 * blackhole route in 198.51.100.0/24 (TEST-NET-2) and a static fdb entry on the
 * bridge port `fdbCanaryPort` (a pod veth on cni0), each added and removed again.
 * stop() returns every other line that concerns what tartan programs: all routes
 * and links, but neighbour and fdb entries only on flannel devices (the kernel's
 * own ARP on eth0/cni0 and the bridge's MAC learning come and go with traffic).
 */
export async function watchKernel(ns: string, fdbCanaryPort: string): Promise<{ stop(): Promise<string[]> }> {
  const ipMon = spawnTracked('ip', ['-n', ns, 'monitor', 'route', 'neigh', 'link']);
  const brMon = spawnTracked('bridge', ['-n', ns, 'monitor', 'fdb']);
  const ipOut = collectOutput(ipMon);
  const brOut = collectOutput(brMon);
  let n = 0;
  const canary = async (): Promise<void> => {
    const deadline = Date.now() + 5000;
    for (;;) {
      n += 1;
      const dst = `198.51.100.${n}`;
      const mac = `02:00:5e:00:99:${n.toString(16).padStart(2, '0')}`;
      await runChecked('ip', ['-n', ns, 'route', 'add', 'blackhole', dst, 'proto', '254']);
      await runChecked('ip', ['-n', ns, 'route', 'del', 'blackhole', dst, 'proto', '254']);
      await runChecked('bridge', ['-n', ns, 'fdb', 'add', mac, 'dev', fdbCanaryPort, 'master', 'static']);
      await runChecked('bridge', ['-n', ns, 'fdb', 'del', mac, 'dev', fdbCanaryPort, 'master', 'static']);
      const seen = Date.now() + 300;
      while (Date.now() < seen) {
        if (ipOut.lines.some((l) => l.includes(dst)) && brOut.lines.some((l) => l.includes(mac))) return;
        await new Promise((r) => setTimeout(r, 20));
      }
      if (Date.now() > deadline) throw new Error(`ip/bridge monitor in ${ns} did not see the canaries`);
    }
  };
  await canary();
  const skipIp = ipOut.lines.length;
  const skipBr = brOut.lines.length;
  return {
    stop: async () => {
      await canary();
      await stopChild(ipMon);
      await stopChild(brMon);
      return [...withoutLink(ipOut.lines.slice(skipIp), fdbCanaryPort), ...brOut.lines.slice(skipBr)]
        .filter((l) => l.trim() !== '' && !l.includes('198.51.100.') && !l.includes('02:00:5e:00:99:'))
        .filter((l) => tartansBusiness(l));
    },
  };
}

/**
 * Drops link messages about `dev` (a header `N: dev@peer: …` and its indented lines):
 * the canary's fdb entries on the pod port make the kernel announce that port, and
 * under load such a message can arrive after the canary was seen. tartan never
 * touches pod ports.
 */
function withoutLink(lines: readonly string[], dev: string): string[] {
  const header = new RegExp(`^\\d+: ${dev}(@\\S+)?: `);
  const kept: string[] = [];
  let dropping = false;
  for (const line of lines) {
    if (dropping && /^\s/.test(line)) continue;
    dropping = header.test(line);
    if (!dropping) kept.push(line);
  }
  return kept;
}

function tartansBusiness(line: string): boolean {
  const dev = / dev (\S+)/.exec(line)?.[1];
  const isFdb = /^(Deleted )?[0-9a-f]{2}(:[0-9a-f]{2}){5} /.test(line);
  const isNeigh = !isFdb && dev !== undefined && !/\b(via|proto|scope|table)\b/.test(line) && !/^\d+: /.test(line);
  if (isFdb || isNeigh) return dev?.startsWith('flannel') ?? false;
  return true;
}
