// Real `tartan agent` processes on lab hosts (as the demo runs them): started with
// `ip netns exec`, stopped by PID, each writing its subnet.env and log to `dir`.
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { type Cidr, normalize, parseCidr } from '../../src/net/cidr.ts';
import { spawnTracked } from '../support/process.ts';
import type { LabHost } from './lab.ts';

export const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

export interface AgentProcessOptions {
  readonly dir: string;
  readonly etcdEndpoint: string;
  readonly netConfigPath: string;
  readonly extraArgs?: readonly string[];
}

export function startLabAgent(h: LabHost, o: AgentProcessOptions): ChildProcess {
  const args = [
    'netns', 'exec', h.ns, process.execPath, MAIN, 'agent',
    '--etcd-endpoints', o.etcdEndpoint, '--iface', 'eth0', '--net-config-path', o.netConfigPath,
    '--subnet-file', subnetFileOf(h, o.dir), ...(o.extraArgs ?? []),
  ];
  const log = openSync(join(o.dir, `${h.ns}.log`), 'a');
  try {
    return spawnTracked('ip', args, { stdio: ['ignore', log, log] });
  } finally {
    closeSync(log);
  }
}

export function subnetFileOf(h: LabHost, dir: string): string {
  return join(dir, `${h.ns}.env`);
}

export interface HostSubnet {
  readonly text: string;
  readonly cidr: Cidr;
  readonly mtu: number;
}

/** Waits for the agent on `h` to write subnet.env (30 s at most). */
export async function waitSubnetEnv(h: LabHost, dir: string, timeoutMs = 30_000): Promise<HostSubnet> {
  const file = subnetFileOf(h, dir);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const env = new Map(readFileSync(file, 'utf8').split('\n').filter((l) => l.includes('=')).map((l) => l.split('=', 2) as [string, string]));
      const text = env.get('FLANNEL_SUBNET')!;
      return { text, cidr: normalize(parseCidr(text, 'FLANNEL_SUBNET', { allowHostBits: true })), mtu: Number(env.get('FLANNEL_MTU')) };
    } catch {
      if (Date.now() > deadline) throw new Error(`the agent on ${h.ns} wrote no subnet.env in ${timeoutMs / 1000} s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
