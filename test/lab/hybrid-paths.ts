// Which path each ordered pair of hybrid lab hosts uses, read from the kernel only
// (plain `ip -json` / `bridge -json`, independent of tartan's code):
//   vxlan    a route to the peer's subnet on flannel.1 (with its neigh and fdb entries)
//   host-gw  a route to the peer's subnet via the peer's address
//   cloud    no route of the host's own for the peer's subnet: the default route takes
//            it to the VPC router, whose table of the cloud network both sit in
//            routes the subnet to the peer
//   none     none of these (the pair cannot reach each other)
//
// settlePaths waits until every pair takes the path a test expects; pingsAcross runs a
// step (a controller started or stopped) under ping streams and fails on any lost ping.
import { type RawFdb, type RawNeigh, type RawRoute, fdbs, link, neighs, routes } from './inspect.ts';
import { type HybridHost, type HybridLab, subnetAddress } from './hybrid.ts';
import type { LabCloudNetwork } from './vpc.ts';
import { formatCidr } from '../../src/net/cidr.ts';
import type { LabPod } from './lab.ts';
import { type SequenceResult, pingSequence } from './ping.ts';
import { waitFor } from '../support/wait.ts';

export type PathKind = 'cloud' | 'vxlan' | 'host-gw' | 'none';

export interface PairPath {
  readonly from: HybridHost;
  readonly to: HybridHost;
  readonly path: PathKind;
  /** The vxlan objects `from` holds for `to`: any of `route`, `neigh`, `fdb`. */
  readonly vxlanObjects: readonly string[];
}

interface HostView {
  readonly routes: RawRoute[];
  readonly neighs: RawNeigh[];
  readonly fdbs: RawFdb[];
}

async function hostView(ns: string): Promise<HostView> {
  const hasVxlan = (await link(ns, 'flannel.1')) !== undefined;
  return {
    routes: await routes(ns),
    neighs: hasVxlan ? await neighs(ns, 'flannel.1') : [],
    fdbs: hasVxlan ? await fdbs(ns, 'flannel.1') : [],
  };
}

/** Every ordered pair of `hosts` (default all), from one kernel dump per host; `clouds`: the lab's VPC, or its cloud networks. */
export async function observePaths(lab: HybridLab, clouds: LabCloudNetwork | readonly LabCloudNetwork[], hosts: readonly HybridHost[] = lab.hosts): Promise<PairPath[]> {
  const networks = await Promise.all((isList(clouds) ? clouds : [clouds]).map(async (c) => ({ has: (h: HybridHost) => c.has(h), routes: await c.kernelRoutes() })));
  const views = new Map(await Promise.all(hosts.map(async (h) => [h, await hostView(h.ns)] as const)));
  const out: PairPath[] = [];
  for (const from of hosts) {
    for (const to of hosts) {
      // The routes of the one cloud network both hosts sit in, if any.
      const shared = networks.find((n) => n.has(from) && n.has(to))?.routes ?? [];
      if (from !== to) out.push(classify(from, to, views.get(from)!, shared));
    }
  }
  return out;
}

function isList(c: LabCloudNetwork | readonly LabCloudNetwork[]): c is readonly LabCloudNetwork[] {
  return Array.isArray(c);
}

function classify(from: HybridHost, to: HybridHost, view: HostView, vpcRoutes: readonly RawRoute[]): PairPath {
  const dst = formatCidr(to.subnet);
  const route = view.routes.find((r) => r.dst === dst);
  const vxlanObjects = [
    ...(route?.dev === 'flannel.1' ? ['route'] : []),
    ...(view.neighs.some((n) => n.dst === subnetAddress(to.subnet)) ? ['neigh'] : []),
    ...(view.fdbs.some((f) => f.dst === to.ip) ? ['fdb'] : []),
  ];
  let path: PathKind = 'none';
  if (route?.dev === 'flannel.1') path = 'vxlan';
  else if (route?.gateway === to.ip) path = 'host-gw';
  else if (route === undefined && vpcRoutes.some((r) => r.dst === dst && r.gateway === to.ip)) path = 'cloud';
  return { from, to, path, vxlanObjects };
}

/** `h1→h2 cloud` lines, for assertions that print well. */
export function pathLines(pairs: readonly PairPath[]): string[] {
  return pairs.map((p) => `${shortName(p.from)}→${shortName(p.to)} ${p.path}`);
}

/** A from × to table of paths. */
export function pathTable(pairs: readonly PairPath[], hosts: readonly HybridHost[]): string {
  const cell = (from: HybridHost, to: HybridHost): string => (from === to ? '-' : pairs.find((p) => p.from === from && p.to === to)?.path ?? '?');
  const head = `${'from \\ to'.padEnd(12)}${hosts.map((h) => shortName(h).padEnd(9)).join('')}`;
  const rows = hosts.map((f) => `${`${shortName(f)} ${f.kind}`.padEnd(12)}${hosts.map((t) => cell(f, t).padEnd(9)).join('')}`);
  return [head, ...rows].map((l) => l.trimEnd()).join('\n');
}

export function shortName(h: HybridHost): string {
  return h.ns.slice(h.ns.lastIndexOf('-') + 1);
}

/** Waits (30 s at most) until every ordered pair of `hosts` takes the path `want` names; returns the last observation. */
export async function settlePaths(o: {
  lab: HybridLab; clouds: LabCloudNetwork | readonly LabCloudNetwork[]; hosts: readonly HybridHost[];
  want: (from: HybridHost, to: HybridHost) => PathKind; details?: () => string;
}): Promise<PairPath[]> {
  const want = pathLines(o.hosts.flatMap((from) => o.hosts.filter((to) => to !== from).map((to) => ({ from, to, path: o.want(from, to), vxlanObjects: [] }))));
  let last: PairPath[] = [];
  await waitFor('the expected paths', async () => {
    last = await observePaths(o.lab, o.clouds, o.hosts);
    return JSON.stringify(pathLines(last)) === JSON.stringify(want);
  }, { timeoutMs: 30_000, details: () => `${pathTable(last, o.hosts)}\n${o.details?.() ?? ''}` });
  return last;
}

/**
 * Runs `step` under a 50/s ping stream per [from, to] pod pair (and 0.5 s after it),
 * then fails if any stream lost a ping or got fewer than `min` replies.
 */
export async function pingsAcross(pairs: readonly (readonly [LabPod, LabPod])[], min: number, step: () => Promise<void>): Promise<void> {
  const streams = pairs.map(([from, to]) => pingSequence(from.ns, to.ip));
  let results: SequenceResult[];
  try {
    await step();
    await new Promise((r) => setTimeout(r, 500));
  } finally {
    results = await Promise.all(streams.map((s) => s.stop()));
  }
  results.forEach((r, i) => {
    const name = `${pairs[i]![0].ns} → ${pairs[i]![1].ns}`;
    if (r.missing.length > 0) throw new Error(`${name}: pings ${r.missing.join(', ')} lost\n${r.output.slice(-600)}`);
    if (r.answered < min) throw new Error(`${name}: only ${r.answered} replies (at least ${min} expected)`);
  });
}
