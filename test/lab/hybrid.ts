// The underlay of a hybrid cluster (cloud VPC + on-prem), in network namespaces:
//
//   tt-<id>-vpc    the VPC router: default gateway of every cloud host. Each cloud host
//                  has a VPC subnet of its own (host N: 10.10.N.0/24, router .1, host
//                  .10), so no two cloud hosts share an L2 and DirectRouting never hides
//                  the VPC path. Its routes to pod subnets are the emulated route table's
//                  (vpc.ts keeps them equal, proto 200). 10.10.255.1 on its lo is the
//                  lab's service address (the etcd relay listens there).
//   tt-<id>-opr    the on-prem router: bridge br0 is the on-prem L2 192.168.50.0/24
//                  (.1); routed to the VPC over 10.255.0.0/30 (vpc .1, opr .2), no NAT.
//   tt-<id>-h<N>   host N: eth0 in its VPC subnet (cloud) or on the on-prem L2
//                  (192.168.50.<10+N>), default via its router; cni0 and pods as in lab.ts.
//
// Forwarding is on in the routers and hosts, rp_filter loose (2) in the hosts (what
// most distributions ship; strict rp_filter drops the asymmetric paths hybrid routing
// makes, see README). Every address exists only inside these namespaces.
import { type Cidr, formatIp, networkAddr, parseCidr } from '../../src/net/cidr.ts';
import { type Lab, type LabHost, type LabPod, cniLines, describeEth0, podAt, podLines } from './lab.ts';
import { createNamespace, deleteNamespace, ipBatch, labId, nsSysctl } from './netns.ts';

export type HostKind = 'cloud' | 'onprem';

export interface HybridLabOptions {
  /** Kind of each host (index = host - 1). */
  readonly hosts: readonly HostKind[];
  /** Pods per host, on the planned subnet 10.42.<N>.0/24 (default 1). */
  readonly podsPerHost?: number | undefined;
}

export interface HybridHost extends LabHost {
  readonly kind: HostKind;
  /** The host's default gateway (its VPC subnet's router, or the on-prem router). */
  readonly gateway: string;
}

export interface HybridLab extends Lab {
  readonly hosts: readonly HybridHost[];
  readonly vpcRouter: string;
  readonly onpremRouter: string;
  /** An address on the VPC router that every host namespace routes to (services: the etcd relay). */
  readonly serviceIp: string;
  /** The VPC's CIDR (cloud hosts' addresses); the on-prem L2 is ONPREM_CIDR. */
  readonly vpcCidr: string;
}

export const VPC_CIDR = '10.10.0.0/16';
export const ONPREM_CIDR = '192.168.50.0/24';
const SERVICE_IP = '10.10.255.1';
const NETWORK = '10.42.0.0/16';
const ROUTER = { 'net.ipv4.ip_forward': 1 };
const HOST = { 'net.ipv4.ip_forward': 1, 'net.ipv4.conf.all.rp_filter': 2 };

export async function createHybridLab(opts: HybridLabOptions): Promise<HybridLab> {
  const id = labId();
  const vpcRouter = `tt-${id}-vpc`;
  const onpremRouter = `tt-${id}-opr`;
  const hosts = opts.hosts.map((kind, i) => planHost(id, kind, i + 1, opts.podsPerHost ?? 1));
  const pods = hosts.flatMap((h) => h.pods);
  const created: string[] = [];
  const destroy = async (): Promise<void> => {
    await Promise.all(created.splice(0).map((ns) => deleteNamespace(ns)));
  };
  try {
    await Promise.all([vpcRouter, onpremRouter, ...hosts.map((h) => h.ns), ...pods.map((p) => p.ns)].map(async (ns) => {
      await createNamespace(ns);
      created.push(ns);
    }));
    await Promise.all([nsSysctl(vpcRouter, ROUTER), nsSysctl(onpremRouter, ROUTER), ...hosts.map((h) => nsSysctl(h.ns, HOST))]);
    await ipBatch(onpremRouter, ['link set lo up', 'link add br0 type bridge', 'address add 192.168.50.1/24 dev br0', 'link set br0 up']);
    await ipBatch(vpcRouter, vpcRouterLines(hosts, onpremRouter));
    await ipBatch(onpremRouter, onpremRouterLines(hosts));
    await Promise.all(hosts.map((h) => ipBatch(h.ns, [
      'link set lo up', `address add ${h.ip}/24 dev eth0`, 'link set eth0 up', `route add default via ${h.gateway} dev eth0`,
      ...(h.pods.length > 0 ? cniLines(h.pods, h.subnet, undefined, 0) : []),
    ])));
    await Promise.all(pods.map((p) => ipBatch(p.ns, podLines(p, hosts[p.host - 1]!.subnet, undefined))));
  } catch (err) {
    await destroy();
    throw err;
  }
  const extra = new Map<LabHost, number>();
  return {
    id, hosts, pods, vpcRouter, onpremRouter, destroy,
    underlay: vpcRouter,
    network: NETWORK,
    ipv6Network: undefined,
    outside: undefined,
    serviceIp: SERVICE_IP,
    vpcCidr: VPC_CIDR,
    iface: (host) => describeEth0(host),
    addPods: async (host, o) => {
      const before = extra.get(host) ?? host.pods.length;
      extra.set(host, before + o.count);
      const added = Array.from({ length: o.count }, (_, m) => podAt(host, before + m, o.subnet, undefined));
      for (const p of added) {
        await createNamespace(p.ns);
        created.push(p.ns);
      }
      await ipBatch(host.ns, cniLines(added, o.subnet, undefined, before, o.mtu));
      await Promise.all(added.map((p) => ipBatch(p.ns, [...podLines(p, o.subnet, undefined), ...(o.mtu ? [`link set eth0 mtu ${o.mtu}`] : [])])));
      return added;
    },
    setPodMtu: async (host, mtu) => {
      await ipBatch(host.ns, [`link set cni0 mtu ${mtu}`, ...host.pods.map((_, m) => `link set p${m + 1} mtu ${mtu}`)]);
      await Promise.all(host.pods.map((p) => ipBatch(p.ns, [`link set eth0 mtu ${mtu}`])));
    },
  };
}

function planHost(id: string, kind: HostKind, n: number, podsPerHost: number): HybridHost {
  const subnet: Cidr = parseCidr(`10.42.${n}.0/24`);
  const host = { index: n, ns: `tt-${id}-h${n}` };
  const pods: LabPod[] = Array.from({ length: podsPerHost }, (_, m) => podAt(host, m, subnet, undefined));
  return kind === 'cloud'
    ? { ...host, kind, subnet, pods, segment: n, ip: `10.10.${n}.10`, gateway: `10.10.${n}.1` }
    : { ...host, kind, subnet, pods, segment: 50, ip: `192.168.50.${10 + n}`, gateway: '192.168.50.1' };
}

function vpcRouterLines(hosts: readonly HybridHost[], onpremRouter: string): string[] {
  const lines = ['link set lo up', `address add ${SERVICE_IP}/32 dev lo`];
  for (const h of hosts.filter((x) => x.kind === 'cloud')) {
    lines.push(
      `link add s${h.index} type veth peer name eth0 netns ${h.ns}`,
      `address add ${h.gateway}/24 dev s${h.index}`, `link set s${h.index} up`,
    );
  }
  lines.push(
    `link add onprem type veth peer name uplink netns ${onpremRouter}`,
    'address add 10.255.0.1/30 dev onprem', 'link set onprem up',
    `route add ${ONPREM_CIDR} via 10.255.0.2 dev onprem`,
  );
  return lines;
}

function onpremRouterLines(hosts: readonly HybridHost[]): string[] {
  const lines = ['address add 10.255.0.2/30 dev uplink', 'link set uplink up', 'route add default via 10.255.0.1 dev uplink'];
  for (const h of hosts.filter((x) => x.kind === 'onprem')) {
    lines.push(`link add h${h.index} type veth peer name eth0 netns ${h.ns}`, `link set h${h.index} master br0`, `link set h${h.index} up`);
  }
  return lines;
}

/** The pod subnet's network address (a vxlan peer's neigh entry, `10.42.N.0`). */
export function subnetAddress(subnet: Cidr): string {
  return formatIp(4, networkAddr(subnet));
}
