// Reads the host's interfaces and default routes for external-interface choice
// (src/net/iface.ts decides; this file only observes).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export type { InterfaceView, ObservedAddress, ObservedInterface } from '../net/interfaces.ts';
import type { InterfaceView } from '../net/interfaces.ts';

interface IpAddrJson {
  ifname: string;
  ifindex: number;
  mtu: number;
  flags?: string[];
  addr_info?: { family: string; local: string; prefixlen: number; scope: string }[];
}

async function ipJson<T>(args: readonly string[], netns?: string): Promise<T> {
  const argv = netns ? ['-n', netns, '-json', ...args] : ['-json', ...args];
  const { stdout } = await run('ip', argv, { maxBuffer: 64 * 1024 * 1024 });
  return (stdout.trim() === '' ? [] : JSON.parse(stdout)) as T;
}

export async function observeInterfaces(netns?: string): Promise<InterfaceView> {
  const [addrs, v4, v6] = await Promise.all([
    ipJson<IpAddrJson[]>(['addr', 'show'], netns),
    ipJson<{ dev?: string }[]>(['-4', 'route', 'show', 'default'], netns),
    ipJson<{ dev?: string }[]>(['-6', 'route', 'show', 'default'], netns),
  ]);
  return {
    interfaces: addrs.map((a) => ({
      name: a.ifname,
      index: a.ifindex,
      mtu: a.mtu,
      up: (a.flags ?? []).includes('UP'),
      addrs: (a.addr_info ?? [])
        .filter((x) => x.family === 'inet' || x.family === 'inet6')
        .map((x) => ({ family: x.family === 'inet' ? 4 : 6, local: x.local, prefixlen: x.prefixlen, scope: x.scope }) as const),
    })),
    defaultDev: v4[0]?.dev,
    defaultDev6: v6[0]?.dev,
  };
}

/** The device the kernel would use to reach `address` (flanneld's --iface-can-reach). */
export async function deviceToReach(address: string, netns?: string): Promise<string | undefined> {
  const routes = await ipJson<{ dev?: string }[]>(['route', 'get', address], netns);
  return routes[0]?.dev;
}

/**
 * The effective IPv4 reverse-path filter mode on `dev` (the larger of `all` and the
 * device's own): 0 off, 1 strict, 2 loose. Undefined when /proc cannot be read.
 */
export async function reversePathFilter(dev: string): Promise<number | undefined> {
  const { readFile } = await import('node:fs/promises');
  try {
    const read = async (name: string): Promise<number> => Number((await readFile(`/proc/sys/net/ipv4/conf/${name}/rp_filter`, 'utf8')).trim());
    return Math.max(await read('all'), await read(dev));
  } catch {
    return undefined;
  }
}
