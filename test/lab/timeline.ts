// When did the kernel of a lab namespace change: `ip monitor route neigh` and
// `bridge monitor fdb`, each line stamped with Date.now() as it arrives (a few ms
// after the change at most). Canaries (a TEST-NET-2 blackhole route, a static fdb
// entry on a pod's bridge port) prove both monitors live before start resolves.
import type { ChildProcess } from 'node:child_process';
import { spawnTracked, stopChild } from '../support/process.ts';
import { runChecked } from './netns.ts';

export interface KernelEvent {
  readonly at: number;
  readonly line: string;
}

export interface KernelTimeline {
  readonly events: readonly KernelEvent[];
  stop(): Promise<void>;
}

function stamped(child: ChildProcess, into: KernelEvent[]): void {
  let partial = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    const at = Date.now();
    const parts = (partial + chunk.toString('utf8')).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) if (line.trim() !== '') into.push({ at, line });
  });
}

export async function kernelTimeline(ns: string, fdbCanaryPort: string): Promise<KernelTimeline> {
  const events: KernelEvent[] = [];
  const children = [spawnTracked('ip', ['-n', ns, 'monitor', 'route', 'neigh']), spawnTracked('bridge', ['-n', ns, 'monitor', 'fdb'])];
  for (const c of children) stamped(c, events);
  const stop = async (): Promise<void> => {
    await Promise.all(children.map((c) => stopChild(c)));
  };
  try {
    const deadline = Date.now() + 5000;
    for (let n = 1; ; n++) {
      const mac = `02:00:5e:00:98:${(n & 255).toString(16).padStart(2, '0')}`;
      await runChecked('ip', ['-n', ns, 'route', 'add', 'blackhole', `198.51.100.${n & 255}`, 'proto', '254']);
      await runChecked('ip', ['-n', ns, 'route', 'del', 'blackhole', `198.51.100.${n & 255}`, 'proto', '254']);
      await runChecked('bridge', ['-n', ns, 'fdb', 'add', mac, 'dev', fdbCanaryPort, 'master', 'static']);
      await runChecked('bridge', ['-n', ns, 'fdb', 'del', mac, 'dev', fdbCanaryPort, 'master', 'static']);
      await new Promise((r) => setTimeout(r, 100));
      if (events.some((e) => e.line.includes('198.51.100.')) && events.some((e) => e.line.includes(mac))) break;
      if (Date.now() > deadline) throw new Error(`ip/bridge monitor in ${ns} did not see the canaries`);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  events.length = 0;
  return { events, stop };
}
