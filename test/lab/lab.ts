// A cluster of hosts and pods in network namespaces, on one machine:
//
//   tt-<id>-ul          the underlay: one bridge per L2 segment (br0, br1, …); with
//                       more than one segment it also routes between them (.254)
//   tt-<id>-h<N>        host N: eth0 on its segment (192.168.<100+s>.<N>/24), a cni0
//                       bridge holding the first address of the host's pod subnet
//   tt-<id>-h<N>p<M>    pod M on host N: eth0 with 10.42.<N>.<10+M>, default via cni0
//   tt-<id>-out         (optional) a machine off the cluster Network, wired to host 1
//
// Every address exists only inside these namespaces. Forwarding is switched on
// inside the host namespaces only. Callers destroy() in finally; a process 'exit'
// hook deletes whatever this process created if they could not.
import type { ExternalInterface } from '../../src/agent/backend.ts';
import { type Cidr, firstHost, formatIp, networkAddr, parseCidr } from '../../src/net/cidr.ts';
import { getLink } from '../../src/kernel/index.ts';
import { createNamespace, deleteNamespace, ipBatch, labId, nsSysctl } from './netns.ts';

export interface LabOptions {
  readonly hosts: number;
  readonly podsPerHost?: number | undefined;
  readonly dualStack?: boolean | undefined;
  /** L2 segment of each host (index = host - 1); default all on segment 0. Several segments are routed by the underlay. */
  readonly segments?: readonly number[] | undefined;
  /** Add `tt-<id>-out`, an outside machine connected to host 1 (for ip-masq). */
  readonly outside?: boolean | undefined;
}

export interface LabPod {
  readonly ns: string;
  readonly host: number;
  readonly ip: string;
  readonly ip6?: string | undefined;
}

export interface LabHost {
  readonly index: number;
  readonly ns: string;
  readonly ip: string;
  readonly ip6?: string | undefined;
  readonly segment: number;
  readonly subnet: Cidr;
  readonly ipv6Subnet?: Cidr | undefined;
  readonly pods: readonly LabPod[];
}

/** A machine off the cluster Network, wired to host 1's `out0` (no route to any pod subnet). */
export interface LabOutside {
  readonly ns: string;
  readonly ip: string;
  readonly hostSideIp: string;
  readonly ip6?: string | undefined;
  readonly hostSideIp6?: string | undefined;
}

export interface Lab {
  readonly id: string;
  readonly underlay: string;
  /** The cluster Network (flannel's `Network`) and, dual-stack, `IPv6Network`. */
  readonly network: string;
  readonly ipv6Network?: string | undefined;
  readonly hosts: readonly LabHost[];
  readonly pods: readonly LabPod[];
  readonly outside?: LabOutside | undefined;
  /** eth0 of a host as tartan's agent would describe it. */
  iface(host: LabHost): Promise<ExternalInterface>;
  /**
   * Attaches `count` more pods to a host, on a cni0 bridge holding the first address
   * of `subnet` (created on first use): what the CNI bridge plugin does with the subnet
   * from subnet.env. For hosts made with `podsPerHost: 0` whose subnet an agent chose.
   */
  addPods(host: LabHost, o: { subnet: Cidr; ipv6Subnet?: Cidr | undefined; count: number; mtu?: number | undefined }): Promise<LabPod[]>;
  /** Sets the MTU of cni0, the pods' veths and the pods' eth0 on one host (as the CNI bridge plugin would). */
  setPodMtu(host: LabHost, mtu: number): Promise<void>;
  destroy(): Promise<void>;
}

const NETWORK = '10.42.0.0/16';
const IPV6_NETWORK = 'fd42::/48';
const FORWARD = { 'net.ipv4.ip_forward': 1, 'net.ipv6.conf.all.forwarding': 1 };
const NO_DAD = { 'net.ipv6.conf.all.accept_dad': 0, 'net.ipv6.conf.default.accept_dad': 0 };

export async function createLab(opts: LabOptions): Promise<Lab> {
  const id = labId();
  const dual = opts.dualStack === true;
  const underlay = `tt-${id}-ul`;
  const hosts = planHosts(id, opts);
  const pods = hosts.flatMap((h) => h.pods);
  const outside: LabOutside | undefined = opts.outside ? {
    ns: `tt-${id}-out`, ip: '172.31.255.2', hostSideIp: '172.31.255.1',
    ip6: dual ? 'fd99::2' : undefined, hostSideIp6: dual ? 'fd99::1' : undefined,
  } : undefined;
  const all = [underlay, ...hosts.map((h) => h.ns), ...pods.map((p) => p.ns), ...(outside ? [outside.ns] : [])];
  const created: string[] = [];
  const destroy = async (): Promise<void> => {
    await Promise.all(created.splice(0).map((ns) => deleteNamespace(ns)));
  };
  try {
    await Promise.all(all.map(async (ns) => {
      await createNamespace(ns);
      created.push(ns);
      await nsSysctl(ns, NO_DAD);
    }));
    const segments = [...new Set(hosts.map((h) => h.segment))].sort();
    await ipBatch(underlay, underlayLines(hosts, segments, dual));
    if (segments.length > 1) await nsSysctl(underlay, FORWARD);
    await Promise.all(hosts.map(async (h) => {
      await nsSysctl(h.ns, dual ? FORWARD : { 'net.ipv4.ip_forward': 1 });
      await ipBatch(h.ns, [
        ...hostLines(h, dual, segments.length > 1, h.index === 1 ? outside : undefined),
        ...(h.pods.length > 0 ? cniLines(h.pods, h.subnet, h.ipv6Subnet, 0) : []),
      ]);
    }));
    await Promise.all([
      ...pods.map((p) => ipBatch(p.ns, podLines(p, hosts[p.host - 1]!.subnet, hosts[p.host - 1]!.ipv6Subnet))),
      ...(outside ? [ipBatch(outside.ns, outsideLines(outside))] : []),
    ]);
  } catch (err) {
    await destroy();
    throw err;
  }
  const extra = new Map<LabHost, number>();
  const addPods: Lab['addPods'] = async (host, o) => {
    const before = extra.get(host) ?? host.pods.length;
    extra.set(host, before + o.count);
    const added = Array.from({ length: o.count }, (_, m) => podAt(host, before + m, o.subnet, o.ipv6Subnet));
    for (const p of added) {
      await createNamespace(p.ns);
      created.push(p.ns);
      await nsSysctl(p.ns, NO_DAD);
    }
    await ipBatch(host.ns, cniLines(added, o.subnet, o.ipv6Subnet, before, o.mtu));
    await Promise.all(added.map((p) => ipBatch(p.ns, [...podLines(p, o.subnet, o.ipv6Subnet), ...(o.mtu ? [`link set eth0 mtu ${o.mtu}`] : [])])));
    return added;
  };
  return {
    id, underlay, hosts, pods, outside, addPods,
    network: NETWORK,
    ipv6Network: dual ? IPV6_NETWORK : undefined,
    iface: (host) => describeEth0(host),
    setPodMtu: (host, mtu) => ipBatch(host.ns, [
      `link set cni0 mtu ${mtu}`, ...host.pods.map((_, m) => `link set p${m + 1} mtu ${mtu}`),
    ]).then(() => Promise.all(host.pods.map((p) => ipBatch(p.ns, [`link set eth0 mtu ${mtu}`])))).then(() => undefined),
    destroy,
  };
}

function planHosts(id: string, opts: LabOptions): LabHost[] {
  return Array.from({ length: opts.hosts }, (_, i) => {
    const n = i + 1;
    const segment = opts.segments?.[i] ?? 0;
    const subnet = parseCidr(`10.42.${n}.0/24`);
    const ipv6Subnet = opts.dualStack ? parseCidr(`fd42:0:0:${n}::/64`) : undefined;
    const host = { index: n, ns: `tt-${id}-h${n}`, segment };
    return {
      ...host, subnet, ipv6Subnet,
      ip: `192.168.${100 + segment}.${n}`,
      ip6: opts.dualStack ? `fd00:0:0:${100 + segment}::${n}` : undefined,
      pods: Array.from({ length: opts.podsPerHost ?? 2 }, (_, m) => podAt(host, m, subnet, ipv6Subnet)),
    };
  });
}

/** Pod m (0-based) of a host: namespace `<host>p<m+1>`, address subnet + 10 + m. */
export function podAt(host: Pick<LabHost, 'index' | 'ns'>, m: number, subnet: Cidr, ipv6Subnet: Cidr | undefined): LabPod {
  return {
    ns: `${host.ns}p${m + 1}`, host: host.index,
    ip: formatIp(4, networkAddr(subnet) + BigInt(10 + m)),
    ip6: ipv6Subnet ? formatIp(6, networkAddr(ipv6Subnet) + BigInt(10 + m)) : undefined,
  };
}

function underlayLines(hosts: readonly LabHost[], segments: readonly number[], dual: boolean): string[] {
  const routed = segments.length > 1;
  const lines = ['link set lo up'];
  for (const s of segments) {
    lines.push(`link add br${s} type bridge`, `link set br${s} up`);
    if (routed) lines.push(`address add 192.168.${100 + s}.254/24 dev br${s}`);
    if (routed && dual) lines.push(`address add fd00:0:0:${100 + s}::fe/64 dev br${s} nodad`);
  }
  for (const h of hosts) {
    lines.push(`link add h${h.index} type veth peer name eth0 netns ${h.ns}`, `link set h${h.index} master br${h.segment}`, `link set h${h.index} up`);
  }
  return lines;
}

function outsideLines(o: LabOutside): string[] {
  const lines = ['link set lo up', 'link set eth0 up', `address add ${o.ip}/30 dev eth0`];
  if (o.ip6) lines.push(`address add ${o.ip6}/64 dev eth0 nodad`);
  return lines;
}

function hostLines(h: LabHost, dual: boolean, routed: boolean, outside: LabOutside | undefined): string[] {
  const lines = ['link set lo up', `address add ${h.ip}/24 dev eth0`, 'link set eth0 up'];
  if (dual) lines.push(`address add ${h.ip6!}/64 dev eth0 nodad`);
  if (routed) lines.push(`route add default via 192.168.${100 + h.segment}.254 dev eth0`);
  if (routed && dual) lines.push(`route add default via fd00:0:0:${100 + h.segment}::fe dev eth0`);
  if (outside) {
    lines.push(`link add out0 type veth peer name eth0 netns ${outside.ns}`, `address add ${outside.hostSideIp}/30 dev out0`, 'link set out0 up');
    if (outside.hostSideIp6) lines.push(`address add ${outside.hostSideIp6}/64 dev out0 nodad`);
  }
  return lines;
}

/** cni0 (when `first` is 0) holding the subnet's first address, and a veth per pod enslaved to it. */
export function cniLines(pods: readonly LabPod[], subnet: Cidr, ipv6Subnet: Cidr | undefined, first: number, mtu?: number): string[] {
  const lines: string[] = [];
  if (first === 0) {
    lines.push('link add cni0 type bridge', `address add ${firstHost(subnet)}/${subnet.prefix} dev cni0`, 'link set cni0 up');
    if (ipv6Subnet) lines.push(`address add ${firstHost(ipv6Subnet)}/${ipv6Subnet.prefix} dev cni0 nodad`);
    if (mtu) lines.push(`link set cni0 mtu ${mtu}`);
  }
  pods.forEach((p, m) => {
    const port = `p${first + m + 1}`;
    lines.push(`link add ${port} type veth peer name eth0 netns ${p.ns}`, `link set ${port} master cni0`, `link set ${port} up`);
    if (mtu) lines.push(`link set ${port} mtu ${mtu}`);
  });
  return lines;
}

/** A pod's eth0 address in its host's subnet, default route via cni0 (the subnet's first address). */
export function podLines(p: LabPod, subnet: Cidr, ipv6Subnet: Cidr | undefined): string[] {
  const lines = ['link set lo up', `address add ${p.ip}/${subnet.prefix} dev eth0`, 'link set eth0 up', `route add default via ${firstHost(subnet)} dev eth0`];
  if (p.ip6 && ipv6Subnet) {
    lines.push(`address add ${p.ip6}/${ipv6Subnet.prefix} dev eth0 nodad`, `route add default via ${firstHost(ipv6Subnet)} dev eth0`);
  }
  return lines;
}

export async function describeEth0(host: LabHost): Promise<ExternalInterface> {
  const link = await getLink('eth0', { netns: host.ns });
  if (link === undefined) throw new Error(`${host.ns} has no eth0`);
  return {
    name: 'eth0', index: link.index, mtu: link.mtu,
    ipv4: host.ip, publicIp: host.ip, ipv6: host.ip6, publicIpv6: host.ip6,
  };
}
