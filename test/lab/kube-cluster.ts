// A Kubernetes-mode lab: the kube-apiserver emulator (in this process, on the shared
// etcd, 127.0.0.1 in the root namespace) and real `tartan agent --kube-subnet-mgr`
// processes on lab hosts. Each host reaches the emulator at https://127.0.0.1:<port>
// on its own loopback, through a relay inside the host joined by a Unix socket to a
// relay in the root namespace (relay.ts): no route, link or address in the root
// namespace, and the emulator's certificate (SAN 127.0.0.1) and kubeconfig work as is.
//
// Nodes are created as kube-controller-manager leaves them (spec.podCIDR(s) assigned,
// no annotations); agents get NODE_NAME as the DaemonSet's downward API would.
import type { ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatCidr } from '../../src/net/cidr.ts';
import { type KubeApiserver, startKubeApiserver } from '../emulators/kube-apiserver/server.ts';
import { rawRequest, type RawResponse } from '../emulators/kube-apiserver/fixture.ts';
import { writeKubeconfig } from '../emulators/kube-apiserver/kubeconfig.ts';
import { uniquePrefix } from '../support/etcd.ts';
import { spawnTracked, stopChild } from '../support/process.ts';
import { MAIN, subnetFileOf } from './agents.ts';
import type { Lab, LabHost } from './lab.ts';
import { bridgeIntoNamespaces } from './relay.ts';

const COMPILE_CACHE = join(tmpdir(), 'tartan-node-compile-cache');

export interface KubeLabOptions {
  readonly etcdEndpoint: string;
  /** net-conf.json Backend (default vxlan). */
  readonly backend?: Record<string, unknown> | undefined;
  readonly bookmarkIntervalMs?: number | undefined;
}

export interface KubeLab {
  readonly api: KubeApiserver;
  readonly dir: string;
  readonly netConfPath: string;
  /** The admin kubeconfig as the hosts see it (https://127.0.0.1:<port> through their relay). */
  readonly kubeconfig: string;
  nodeName(h: LabHost): string;
  /** Creates the host's Node with its planned podCIDR (kube-controller-manager's part). */
  createNode(h: LabHost, o?: { podCIDR?: string | null; annotations?: Record<string, string> }): Promise<void>;
  raw(method: string, path: string, o?: { body?: unknown; contentType?: string }): Promise<RawResponse>;
  /** Starts `tartan agent --kube-subnet-mgr` on the host (NODE_NAME set). */
  startAgent(h: LabHost, extraArgs?: readonly string[], env?: NodeJS.ProcessEnv): ChildProcess;
  stopAgent(h: LabHost, signal?: NodeJS.Signals): Promise<number | null>;
  /** Cuts the hosts off the apiserver (relays stopped) or lets them through again. */
  setReachable(reachable: boolean): Promise<void>;
  logTail(h: LabHost, lines?: number): string;
  destroy(): Promise<void>;
}

export async function startKubeLab(lab: Lab, o: KubeLabOptions): Promise<KubeLab> {
  const dir = mkdtempSync(join(tmpdir(), 'tartan-kube-lab-'));
  const api = await startKubeApiserver({ etcdEndpoint: o.etcdEndpoint, prefix: uniquePrefix('kubelab'), kubeconfigPath: join(dir, 'admin.kubeconfig'), bookmarkIntervalMs: o.bookmarkIntervalMs });
  const socket = join(dir, 'api.sock');
  const netConfPath = join(dir, 'net-conf.json');
  writeFileSync(netConfPath, JSON.stringify({ Network: lab.network, Backend: o.backend ?? { Type: 'vxlan' } }));
  const kubeconfig = writeKubeconfig({ path: join(dir, 'hosts.kubeconfig'), server: `https://127.0.0.1:${api.port}`, token: api.adminToken, caPem: api.caPem, userName: 'admin' });
  const agents = new Map<LabHost, ChildProcess>();
  let bridge: { close(): Promise<void> } | undefined;
  const connect = async (): Promise<void> => {
    bridge = await bridgeIntoNamespaces({ socket, port: api.port, inside: lab.hosts.map((h) => ({ ns: h.ns, listen: `tcp:127.0.0.1:${api.port}` })) });
  };
  const disconnect = async (): Promise<void> => {
    await bridge?.close();
    bridge = undefined;
  };
  try {
    await connect();
  } catch (err) {
    await disconnect();
    await api.close();
    throw err;
  }
  const nodeName = (h: LabHost): string => `node-${h.index}`;
  const raw: KubeLab['raw'] = (method, path, r = {}) => rawRequest(api, method, path, r);
  return {
    api, dir, netConfPath, kubeconfig, nodeName, raw,
    createNode: async (h, n = {}) => {
      const cidr = n.podCIDR === undefined ? formatCidr(h.subnet) : n.podCIDR;
      const res = await raw('POST', '/api/v1/nodes', {
        body: {
          apiVersion: 'v1', kind: 'Node',
          metadata: { name: nodeName(h), labels: { 'kubernetes.io/os': 'linux' }, annotations: n.annotations ?? {} },
          spec: cidr ? { podCIDR: cidr, podCIDRs: [cidr] } : {},
          status: { addresses: [{ type: 'InternalIP', address: h.ip }], conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }] },
        },
      });
      if (res.status !== 201) throw new Error(`create node ${nodeName(h)}: ${res.status} ${res.text}`);
    },
    startAgent: (h, extraArgs = [], env = {}) => {
      if (agents.get(h)?.exitCode === null) throw new Error(`the agent on ${h.ns} is running`);
      const fd = openSync(join(dir, `${h.ns}.log`), 'a');
      try {
        const child = spawnTracked('ip', [
          'netns', 'exec', h.ns, process.execPath, MAIN, 'agent', '--kube-subnet-mgr', '--kubeconfig-file', kubeconfig,
          '--net-config-path', netConfPath, '--iface', 'eth0', '--subnet-file', subnetFileOf(h, dir), ...extraArgs,
        ], { stdio: ['ignore', fd, fd], env: { ...process.env, NODE_COMPILE_CACHE: COMPILE_CACHE, NODE_NAME: nodeName(h), ...env } });
        agents.set(h, child);
        return child;
      } finally {
        closeSync(fd);
      }
    },
    stopAgent: async (h, signal = 'SIGTERM') => {
      const child = agents.get(h);
      agents.delete(h);
      return child ? stopChild(child, signal) : null;
    },
    setReachable: async (reachable) => {
      if (reachable && !bridge) await connect();
      if (!reachable && bridge) await disconnect();
    },
    logTail: (h, n = 20) => {
      try {
        return readFileSync(join(dir, `${h.ns}.log`), 'utf8').trimEnd().split('\n').slice(-n).join('\n');
      } catch {
        return '(no log)';
      }
    },
    destroy: async () => {
      await Promise.all([...agents.values()].map((a) => stopChild(a)));
      agents.clear();
      await disconnect();
      await api.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
