// What the Kubernetes-mode bench needs around the kube-apiserver emulator: Nodes of
// realistic size (a real kubelet's Node is ~8 KB of JSON, mostly status.images),
// written straight through the emulator's own store (its etcd layout, uid and
// creationTimestamp as a create leaves them, 32 in flight), a kubeconfig per client
// identity (the call log is filtered by user), and a way into a lab namespace: a relay
// inside it listening on 127.0.0.1:<port>, joined by a Unix socket to a relay beside
// the emulator (as test/lab/kube-cluster.ts does), so nothing is added to the root
// namespace and the emulator's certificate (SAN 127.0.0.1) holds.
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import type { Lease } from '../../src/lease/lease.ts';
import { formatCidr } from '../../src/net/cidr.ts';
import { findResource } from '../emulators/kube-apiserver/resources.ts';
import { type KubeApiserver, startKubeApiserver } from '../emulators/kube-apiserver/server.ts';
import type { JsonObject } from '../emulators/kube-apiserver/status.ts';
import { prepareCreate } from '../emulators/kube-apiserver/strategy.ts';
import { writeKubeconfig } from '../emulators/kube-apiserver/kubeconfig.ts';
import { bridgeIntoNamespaces } from '../lab/relay.ts';

const FLANNEL = 'flannel.alpha.coreos.com';
const NODES = findResource('', 'v1', 'nodes')!;

/** net-conf.json for 5,000 /24s: a /16 holds only 256. */
export const NET_CONF = JSON.stringify({ Network: '10.0.0.0/8', SubnetLen: 24, Backend: { Type: 'vxlan' } });

export interface NodeSpec {
  readonly name: string;
  readonly podCIDR: string;
  readonly publicIp: string;
  /** flannel's backend-data annotation (JSON). */
  readonly backendData: Record<string, unknown>;
  readonly internalIp?: string | undefined;
}

/** The node a synthetic peer lease (test/lab/bench-host.ts) would be. */
export function peerNode(name: string, peer: Lease, extraData: Record<string, unknown> = {}): NodeSpec {
  return { name, podCIDR: formatCidr(peer.subnet), publicIp: peer.attrs.publicIp, backendData: { ...(peer.attrs.backendData as Record<string, unknown>), ...extraData } };
}

/** A Node as a kubelet, kube-controller-manager and a flannel agent leave it (~8 KB as JSON). */
export function realisticNode(n: NodeSpec, i: number): JsonObject {
  const hex = (seed: number, len: number): string => Array.from({ length: len }, (_, k) => ((seed * 2654435761 + k * 40503) >>> (k % 24) & 15).toString(16)).join('');
  const images = Array.from({ length: 22 }, (_, k) => ({
    names: [`registry.example.internal/platform/team-${k % 7}/service-${k}@sha256:${hex(i + k, 64)}`, `registry.example.internal/platform/team-${k % 7}/service-${k}:v1.${k}.${i % 10}-build.${hex(k, 8)}`],
    sizeBytes: 20_000_000 + k * 7_340_033,
  }));
  const condition = (type: string, status: string, reason: string, message: string) => ({
    type, status, reason, message, lastHeartbeatTime: '2026-12-01T10:00:00Z', lastTransitionTime: '2026-11-01T10:00:00Z',
  });
  const ip = n.internalIp ?? n.publicIp;
  return {
    apiVersion: 'v1', kind: 'Node',
    metadata: {
      name: n.name,
      labels: {
        'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', 'kubernetes.io/hostname': n.name, 'beta.kubernetes.io/os': 'linux',
        'beta.kubernetes.io/arch': 'amd64', 'node.kubernetes.io/instance-type': 'm6i.2xlarge', 'topology.kubernetes.io/region': 'us-east-1',
        'topology.kubernetes.io/zone': `us-east-1${'abc'[i % 3]}`, 'node-role.kubernetes.io/worker': '', 'example.com/pool': `pool-${i % 12}`,
      },
      annotations: {
        'kubeadm.alpha.kubernetes.io/cri-socket': 'unix:///run/containerd/containerd.sock',
        'node.alpha.kubernetes.io/ttl': '0',
        'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
        [`${FLANNEL}/backend-data`]: JSON.stringify(n.backendData),
        [`${FLANNEL}/backend-type`]: 'vxlan',
        [`${FLANNEL}/kube-subnet-manager`]: 'true',
        [`${FLANNEL}/public-ip`]: n.publicIp,
      },
    },
    spec: { podCIDR: n.podCIDR, podCIDRs: [n.podCIDR], providerID: `aws:///us-east-1a/i-${hex(i, 17)}` },
    status: {
      capacity: { cpu: '8', 'ephemeral-storage': '104845292Ki', 'hugepages-1Gi': '0', 'hugepages-2Mi': '0', memory: '32408992Ki', pods: '110' },
      allocatable: { cpu: '7910m', 'ephemeral-storage': '95551679124', 'hugepages-1Gi': '0', 'hugepages-2Mi': '0', memory: '31391136Ki', pods: '110' },
      conditions: [
        condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
        condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
        condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
        condition('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status. AppArmor enabled'),
        condition('NetworkUnavailable', 'False', 'FlannelIsUp', 'Flannel is running on this node'),
      ],
      addresses: [{ type: 'InternalIP', address: ip }, { type: 'Hostname', address: n.name }, { type: 'InternalDNS', address: `ip-${ip.replaceAll('.', '-')}.ec2.internal` }],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        machineID: hex(i, 32), systemUUID: `ec2${hex(i + 1, 29)}`, bootID: hex(i + 2, 32), kernelVersion: '6.1.0-28-cloud-amd64',
        osImage: 'Debian GNU/Linux 12 (bookworm)', containerRuntimeVersion: 'containerd://1.7.24', kubeletVersion: 'v1.33.0', kubeProxyVersion: 'v1.33.0',
        operatingSystem: 'linux', architecture: 'amd64',
      },
      images,
    },
  };
}

/**
 * The emulator on its own etcd client that takes answers of any size, as kube-apiserver's
 * (MaxCallRecvMsgSize = MaxInt32): a page of 500 Nodes of ~8 KB is more than gRPC's
 * default 4 MiB, which the emulator's default client would answer with a 500.
 */
export async function startBenchApiserver(o: { etcdEndpoint: string; prefix: string; kubeconfigPath: string }): Promise<KubeApiserver> {
  const etcd = new Etcd3({ hosts: [o.etcdEndpoint], grpcOptions: { 'grpc.max_receive_message_length': 2 ** 31 - 1 } });
  try {
    const api = await startKubeApiserver({ etcd, prefix: o.prefix, kubeconfigPath: o.kubeconfigPath });
    return { ...api, admin: api.admin, store: api.store, close: async () => { await api.close(); etcd.close(); } };
  } catch (err) {
    etcd.close();
    throw err;
  }
}

/** Writes the nodes through the emulator's store (32 in flight): what a POST stores, without HTTP. */
export async function writeNodes(api: KubeApiserver, nodes: readonly JsonObject[]): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: 32 }, async () => {
    for (let i = next++; i < nodes.length; i = next++) {
      await api.store.create(NODES, undefined, prepareCreate({ r: NODES, now: () => new Date() }, structuredClone(nodes[i]!)));
    }
  }));
}

/** A kubeconfig for user `user` (system:masters, so RBAC allows everything); the call log names the user. */
export function clientKubeconfig(api: KubeApiserver, dir: string, user: string): string {
  const token = `bench-${user}-${process.pid}`;
  api.admin.addToken(token, { name: user, groups: ['system:masters'] });
  return writeKubeconfig({ path: join(dir, `${user}.kubeconfig`), server: `https://127.0.0.1:${api.port}`, token, caPem: api.caPem, userName: user });
}

/** The emulator at https://127.0.0.1:<port> inside `ns` too; close() stops both relays. */
export async function reachFromNamespace(api: KubeApiserver, ns: string, dir: string): Promise<{ close(): Promise<void> }> {
  return await bridgeIntoNamespaces({ socket: join(dir, 'api.sock'), port: api.port, inside: [{ ns, listen: `tcp:127.0.0.1:${api.port}` }] });
}

/** A failure with the tail of the process's output that explains it. */
export function withOutput(err: unknown, output: string): Error {
  return new Error(`${err instanceof Error ? err.message : String(err)}\n${output.slice(-3000)}`, { cause: err });
}
