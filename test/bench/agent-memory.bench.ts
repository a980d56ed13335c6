// `tartan agent` resident memory with 5,000 peers: the real agent, as deploy/ runs
// it (the `npm run build` bundle, deploy/'s Node settings), in a host
// namespace with its own etcd; the peers' leases are written into that etcd and the
// agent programs all of them (5,000 routes, neighbours and fdb entries) as a vxlan
// host. Measured once with its own lease only, then after the 5,000 peers are in the
// kernel and two resyncs (each reads every route, neighbour and fdb entry back).
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildCli } from '../../scripts/build.ts';
import { createEtcdClient, encodeLeaseAttrs } from '../../src/lease/index.ts';
import { createBenchHost, syntheticPeer } from '../lab/bench-host.ts';
import { runChecked } from '../lab/netns.ts';
import { startEtcd } from '../support/etcd.ts';
import { collectOutput, spawnTracked, stopChild } from '../support/process.ts';
import { waitFor } from '../support/wait.ts';
import { liveHeap, readRss, writeHeapHook } from './process-memory.ts';
import type { BenchOptions, BenchRow } from './result.ts';

const SUITE = 'agent';
const PEERS = 5000;
const TARGET_MB = 80;
const PREFIX = '/coreos.com/network';
const RESYNC = '5s';
/** What deploy/ runs the agent with (systemd unit, DaemonSet); deploy.test.ts checks they agree. */
export const AGENT_NODE_FLAGS = '--max-semi-space-size=1';

export default async function bench(opts: BenchOptions): Promise<BenchRow[]> {
  if (process.getuid?.() !== 0) return [{ suite: SUITE, metric: 'skipped', value: 0, unit: '', note: 'needs root (network namespaces)' }];
  const peers = opts.quick ? 2000 : PEERS;
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const work = mkdtempSync(join(tmpdir(), 'tartan-agent-mem-'));
  const host = await createBenchHost('am');
  try {
    const main = await buildCli(join(work, 'dist'));
    symlinkSync(join(root, 'node_modules'), join(work, 'node_modules'));
    const etcd = await startEtcd({ netns: host.ns, host: host.iface.ipv4! });
    try {
      // The bench process cannot reach the namespace: a child inside it writes the leases.
      await writeInNamespace(host.ns, etcd.endpoint, ['config']);
      const hook = writeHeapHook(work);
      const agent = spawnTracked('ip', [
        'netns', 'exec', host.ns, process.execPath, main, 'agent', '--etcd-endpoints', etcd.endpoint, '--etcd-prefix', PREFIX,
        '--iface', 'eth0', '--subnet-file', join(work, 'subnet.env'), '--resync-period', RESYNC, '--log-level', 'warn',
      ], { env: { ...process.env, NODE_OPTIONS: `${AGENT_NODE_FLAGS} --expose-gc --import=${hook}` } });
      const out = collectOutput(agent);
      try {
        await waitFor('subnet.env', () => { try { return readFileSync(join(work, 'subnet.env'), 'utf8'); } catch { return undefined; } }, 30_000);
        await sleep(11_000); // two resyncs with no peer
        const empty = { ...readRss(agent.pid!), heap: await liveHeap(agent.pid!, () => out.text()) };
        await writeInNamespace(host.ns, etcd.endpoint, ['leases', String(peers)]);
        const count = async () => (await runChecked('ip', ['-n', host.ns, 'route', 'show', 'proto', '116'])).split('\n').filter((l) => l.trim()).length;
        await waitFor(`${peers} routes`, async () => (await count()) >= peers || undefined, 120_000);
        await sleep(11_000); // two resyncs, each reading 3 × 5,000 kernel objects back
        const full = { ...readRss(agent.pid!), heap: await liveHeap(agent.pid!, () => out.text()) };
        return [
          {
            suite: SUITE, metric: `${peers} peers: agent resident memory (VmRSS), npm run build`, value: full.rss, unit: 'MB',
            ...(peers === PEERS ? { target: `≤ ${TARGET_MB}`, met: full.rss <= TARGET_MB } : {}),
            note: `vxlan, after two ${RESYNC} resyncs; peak (VmHWM) ${full.hwm.toFixed(0)} MB; RssAnon ${full.anon.toFixed(0)} MB, RssFile ${full.file.toFixed(0)} MB (mostly the node binary); ${AGENT_NODE_FLAGS}`,
          },
          {
            suite: SUITE, metric: 'own lease only: agent resident memory (VmRSS), same process', value: empty.rss, unit: 'MB',
            note: `RssAnon ${empty.anon.toFixed(0)} MB, RssFile ${empty.file.toFixed(0)} MB: node, etcd3/gRPC, pino, the agent`,
          },
          {
            suite: SUITE, metric: `${peers} peers: V8 heap in use after a full GC`, value: full.heap.used, unit: 'MB',
            note: `${(full.heap.used - empty.heap.used).toFixed(1)} MB more than with no peer; heap reserved ${full.heap.total.toFixed(0)} MB; external ${full.heap.external.toFixed(0)} MB`,
          },
        ];
      } catch (err) {
        throw new Error(`${err instanceof Error ? err.message : String(err)}\n${out.text().slice(-3000)}`, { cause: err });
      } finally {
        await stopChild(agent);
      }
    } finally {
      await etcd.destroy();
    }
  } finally {
    await host.destroy();
    rmSync(work, { recursive: true, force: true });
  }
}

async function writeInNamespace(ns: string, endpoint: string, what: string[]): Promise<void> {
  await runChecked('ip', ['netns', 'exec', ns, process.execPath, fileURLToPath(import.meta.url), '--write', endpoint, ...what], { timeoutMs: 120_000 });
}

/** Inside the namespace: the network config (the agent's own subnet above the peers'), or `n` peer leases as agents leave them (one etcd lease keeps them all). */
async function write(endpoint: string, what: string, n: number): Promise<void> {
  const client = createEtcdClient({ endpoints: [endpoint] });
  try {
    if (what === 'config') {
      await client.put(`${PREFIX}/config`).value(JSON.stringify({ Network: '10.0.0.0/8', SubnetMin: '10.100.0.0', Backend: { Type: 'vxlan' } })).exec();
      return;
    }
    const id = await client.lease(3600, { autoKeepAlive: false }).grant();
    let next = 0;
    await Promise.all(Array.from({ length: 32 }, async () => {
      for (let i = next++; i < n; i = next++) {
        const peer = syntheticPeer(i);
        await client.put(`${PREFIX}/subnets/${peer.key}`).value(encodeLeaseAttrs(peer.attrs)).lease(id).exec();
      }
    }));
  } finally {
    client.close();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));



if (import.meta.main && process.argv[2] === '--write') {
  await write(process.argv[3]!, process.argv[4]!, Number(process.argv[5] ?? 0));
}
