// Drives tartan's kernel backends on lab hosts in-process, the way the agent
// would: prepare → publish a lease → activate → reconcile(all other leases).
// Each backend programs its host's namespace through the `netns` option.
import type { Backend, BackendPrepared } from '../../src/agent/backend.ts';
import { backendFactory } from '../../src/agent/backends/index.ts';
import { type NetworkConfig, parseNetworkConfig } from '../../src/config/network.ts';
import type { JsonValue, Lease } from '../../src/lease/lease.ts';
import { testLease } from '../../src/lease/testing.ts';
import { type Logger, silentLogger } from '../../src/observe/log.ts';
import type { Lab, LabHost } from './lab.ts';

export interface LabNode {
  readonly host: LabHost;
  readonly backend: Backend;
  readonly prepared: BackendPrepared;
  readonly lease: Lease;
}

export interface LabCluster {
  readonly network: NetworkConfig;
  readonly nodes: LabNode[];
  /** The leases every node currently sees (starts as every node's own lease). */
  leases: Lease[];
  /** Reconciles every node with all leases but its own. */
  reconcileAll(opts?: { observe?: boolean }): Promise<void>;
  /** A new backend instance on the same host namespace (an agent restart), prepared and activated. */
  restart(node: LabNode, opts?: { log?: Logger }): Promise<LabNode>;
}

export interface ClusterOptions {
  /** The Backend object of the network config, e.g. `{ Type: 'vxlan', DirectRouting: true }`. */
  readonly backend: Readonly<Record<string, JsonValue>>;
  readonly log?: Logger | undefined;
  /** Set the pods' MTU to what the backend reports (as the CNI plugin does from subnet.env). Default true. */
  readonly podMtu?: boolean | undefined;
  readonly signal?: AbortSignal | undefined;
}

export function labNetworkConfig(lab: Lab, backend: Readonly<Record<string, JsonValue>>): NetworkConfig {
  return parseNetworkConfig(JSON.stringify({
    Network: lab.network,
    ...(lab.ipv6Network ? { EnableIPv6: true, IPv6Network: lab.ipv6Network } : {}),
    Backend: backend,
  }));
}

export function leaseFor(host: LabHost, backendType: string, prepared: Pick<BackendPrepared, 'backendData' | 'backendV6Data'>): Lease {
  return testLease({
    subnet: host.subnet, ipv6Subnet: host.ipv6Subnet,
    publicIp: host.ip, publicIpv6: host.ip6, backendType,
    backendData: prepared.backendData, backendV6Data: prepared.backendV6Data,
    expiresAt: Date.now() + 86_400_000,
  });
}

export async function startCluster(lab: Lab, opts: ClusterOptions): Promise<LabCluster> {
  const network = labNetworkConfig(lab, opts.backend);
  const signal = opts.signal ?? new AbortController().signal;
  const log = opts.log ?? silentLogger();
  const start = async (host: LabHost, hostLog: Logger = log): Promise<LabNode> => {
    const backend = backendFactory(network.backend.type)({ network, iface: await lab.iface(host), log: hostLog, netns: host.ns });
    const prepared = await backend.prepare(signal);
    await backend.activate({ subnet: host.subnet, ipv6Subnet: host.ipv6Subnet }, signal);
    if (opts.podMtu !== false) await lab.setPodMtu(host, prepared.mtu);
    return { host, backend, prepared, lease: leaseFor(host, backend.type, prepared) };
  };
  const nodes = await Promise.all(lab.hosts.map((h) => start(h)));
  const cluster: LabCluster = {
    network,
    nodes,
    leases: nodes.map((n) => n.lease),
    reconcileAll: async (o = {}) => {
      await Promise.all(cluster.nodes.map((n) => n.backend.reconcile(cluster.leases.filter((l) => l.key !== n.lease.key), signal, o)));
    },
    restart: async (node, o = {}) => {
      const next = await start(node.host, o.log);
      cluster.nodes[cluster.nodes.indexOf(node)] = next;
      return next;
    },
  };
  await cluster.reconcileAll();
  return cluster;
}
