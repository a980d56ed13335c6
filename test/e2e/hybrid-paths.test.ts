// Hybrid cluster e2e: real `tartan agent` processes on 3 cloud hosts (each in its own
// VPC subnet behind the VPC router), 2 on-prem hosts (one L2 behind the on-prem router)
// and a cloud host running a plain vxlan config (a flannel-formatted lease); a real
// `tartan controller` writing routes into the EC2 emulator, whose route table the
// VPC router's kernel follows; real etcd. Paths are read from the kernel only.
//
// The steps build on each other (one cluster, started once):
//   agents only → everyone on the kernel fallback;
//   controller starts under 50 pings/s → the cloud pair switches to the VPC, no loss;
//   the full matrix and who uses which path; the flannel host stays on vxlan;
//   controller stopped and a VPC route deleted by hand → back on vxlan within the
//   freshness bound; controller back → repaired, VPC again without loss;
//   controller stopped → nothing changes at once; a cloud host joins → reached over
//   vxlan, and once the status is stale every pair is on the kernel path.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isProgrammed } from '../../src/lease/route-status.ts';
import { formatCidr } from '../../src/net/cidr.ts';
import { sharedEtcd, uniquePrefix } from '../support/etcd.ts';
import {
  type HybridHost, type PairPath, type PathKind, failures, observePaths, ping, pingMatrix, watchKernel,
} from '../lab/index.ts';
import { pingsAcross, settlePaths } from '../lab/hybrid-paths.ts';
import { ipBatch } from '../lab/netns.ts';
import { type HybridWorld, startHybridWorld } from '../lab/hybrid-world.ts';

const skip = process.getuid?.() === 0 ? false : 'needs root: builds network namespaces';

describe('hybrid: VPC routes for cloud peers, vxlan / host-gw for the rest', { skip }, () => {
  let etcd: Awaited<ReturnType<typeof sharedEtcd>>;
  let world: HybridWorld;
  let c1: HybridHost, c2: HybridHost, o1: HybridHost, o2: HybridHost, flannel: HybridHost, late: HybridHost;
  /** Hosts whose agent runs. */
  let running: HybridHost[];

  /** The fallback paths: the flannel host and every non-cloud pair over vxlan, the on-prem L2 over host-gw. */
  const expected = (from: HybridHost, to: HybridHost, routed: ReadonlySet<HybridHost>): PathKind => {
    if (from === flannel || to === flannel) return 'vxlan';
    if (from.kind === 'onprem' && to.kind === 'onprem') return 'host-gw';
    if (from.kind === 'cloud' && to.kind === 'cloud' && routed.has(to)) return 'cloud';
    return 'vxlan';
  };
  const details = (): string => world.cluster.logTail();
  const settle = (hosts: readonly HybridHost[], routed: ReadonlySet<HybridHost>): Promise<PairPath[]> =>
    settlePaths({ lab: world.lab, clouds: world.vpc, hosts, want: (from, to) => expected(from, to, routed), details });
  const podsOf = (hosts: readonly HybridHost[]) => hosts.flatMap((h) => h.pods);
  /** Runs `step` under 50 pings/s each way between c1's and c2's pods; none may be lost and at least `min` must answer. */
  const withoutLoss = (min: number, step: () => Promise<void>): Promise<void> =>
    pingsAcross([[c1.pods[0]!, c2.pods[0]!], [c2.pods[0]!, c1.pods[0]!]], min, step);


  before(async () => {
    etcd = await sharedEtcd();
    world = await startHybridWorld({
      hosts: ['cloud', 'cloud', 'onprem', 'onprem', 'cloud', 'cloud'], podsPerHost: 1, etcdEndpoint: etcd.endpoint, prefix: uniquePrefix('hybrid-paths'),
    });
    [c1, c2, o1, o2, flannel, late] = world.lab.hosts as [HybridHost, HybridHost, HybridHost, HybridHost, HybridHost, HybridHost];
    running = [c1, c2, o1, o2, flannel];
    await Promise.all(running.map((h) => world.cluster.startAgent(h, { plainVxlan: h === flannel })));
  });
  after(async () => {
    await world?.destroy();
    await etcd?.close();
  });

  it('without a controller every pair is on the kernel fallback: vxlan, host-gw inside the on-prem L2', async () => {
    await settle(running, new Set());
    assert.deepEqual(await world.vpc.kernelRoutes(), []);
  });

  it('the switch from vxlan to the VPC route under 50 pings/s each way loses no packet', async () => {
    // It runs across the switch: ≥ 1 s of traffic at 50/s.
    await withoutLoss(50, async () => {
      await new Promise((r) => setTimeout(r, 500));
      world.cluster.startController();
      await settle(running, new Set([c1, c2]));
    });
  });

  it('cloud↔cloud goes through the VPC router with no vxlan objects for each other; everything else as before', async () => {
    const paths = await settle(running, new Set([c1, c2]));
    for (const [a, b] of [[c1, c2], [c2, c1]] as const) {
      assert.deepEqual(paths.find((p) => p.from === a && p.to === b)?.vxlanObjects, [], `${a.ns} still holds vxlan objects for ${b.ns}`);
    }
    for (const h of [c1, c2]) assert.ok(isProgrammed(await world.cluster.routeStatus(h)), `${h.ns} is not programmed`);
    for (const h of [o1, o2]) assert.ok(!isProgrammed(await world.cluster.routeStatus(h)), `on-prem ${h.ns} is programmed`);
    assert.deepEqual(failures(await pingMatrix(world.lab, { pods: podsOf(running), count: 2 })), []);
    // The VPC router carries it: without its route c1's pod cannot reach c2's; the sync puts it back.
    await ipBatch(world.lab.vpcRouter, [`route del ${formatCidr(c2.subnet)} proto 200`]);
    assert.equal((await ping(c1.pods[0]!.ns, c2.pods[0]!.ip, { count: 1, timeout: 1 })).received, 0);
    await world.vpc.sync();
    assert.equal((await ping(c1.pods[0]!.ns, c2.pods[0]!.ip, { count: 2 })).received, 2);
  });

  it('a foreign /25 appears inside c2\'s subnet: c2 is conflict, its peers leave the VPC path without loss; removed: back, without loss', async () => {
    const half = formatCidr(c2.subnet).replace(/\.0\/24$/, '.128/25');
    await withoutLoss(50, async () => {
      await world.vpc.admin.seedRoute({ routeTableId: world.vpc.routeTableId, destination: half, target: { gatewayId: 'igw-0123456789abcdef0' } });
      await settle(running, new Set([c1]));
      const status = await world.cluster.routeStatus(c2);
      assert.equal(status?.state, 'conflict');
      assert.match(status?.reason ?? '', /takes 50% of it/);
      await world.vpc.admin.removeRoute({ routeTableId: world.vpc.routeTableId, destination: half });
      await settle(running, new Set([c1, c2]));
    });
  });

  it('a host with a flannel-formatted lease (plain vxlan, no RouteDomain) is a flannel peer: no VPC route spent on it, vxlan both ways', async () => {
    const raw = await world.cluster.rawLease(flannel) as { BackendType: string; BackendData: Record<string, unknown> };
    assert.equal(raw.BackendType, 'vxlan');
    assert.deepEqual(Object.keys(raw.BackendData).sort(), ['VNI', 'VtepMAC']);
    const hybrid = await world.cluster.rawLease(c1) as { BackendType: string; BackendData: Record<string, unknown> };
    assert.equal(hybrid.BackendType, 'vxlan');
    assert.equal(hybrid.BackendData.RouteDomain, world.vpc.domain);
    // The controller has routed the hybrid hosts by now; a flannel lease asks for no cloud
    // route (nobody would use it), so it spends no route-table quota and has no status.
    assert.ok(isProgrammed(await world.cluster.routeStatus(c1)), 'the controller has run');
    assert.equal(await world.cluster.routeStatus(flannel), undefined);
    assert.ok(!(await world.vpc.tableRoutes()).some((r) => r.destination === formatCidr(flannel.subnet)), 'no VPC route for the flannel host');
    const paths = await observePaths(world.lab, world.vpc, running);
    for (const h of [c1, c2, o1, o2]) {
      assert.deepEqual(paths.find((p) => p.from === h && p.to === flannel)?.vxlanObjects, ['route', 'neigh', 'fdb'], `${h.ns} → flannel host`);
      assert.deepEqual(paths.find((p) => p.from === flannel && p.to === h)?.vxlanObjects, ['route', 'neigh', 'fdb'], `flannel host → ${h.ns}`);
    }
  });

  it('controller gone and a VPC route deleted by hand: back on vxlan within the freshness bound; controller back: repaired, VPC again, no loss', async () => {
    await world.cluster.stopController();
    const stoppedAt = Date.now();
    await world.vpc.admin.removeRoute({ routeTableId: world.vpc.routeTableId, destination: formatCidr(c2.subnet) });
    await world.vpc.sync();
    // c2's status still says programmed, but nobody vouches for it: within twice the
    // controller's resync (2 s) + 5 s, plus one agent resync (1 s), every peer is on the kernel path.
    await settle(running, new Set());
    const tookMs = Date.now() - stoppedAt;
    assert.ok(tookMs <= 2 * 2000 + 5000 + 1000 + 3000, `fell back after ${tookMs} ms`);
    assert.equal((await ping(c1.pods[0]!.ns, c2.pods[0]!.ip, { count: 2 })).received, 2, 'c1 reaches c2 over vxlan');
    await withoutLoss(25, async () => {
      world.cluster.startController();
      await settle(running, new Set([c1, c2]));
    });
    assert.ok((await world.vpc.tableRoutes()).some((r) => r.destination === formatCidr(c2.subnet)), 'the controller repaired the route');
  });

  it('with the controller stopped nothing changes and every pod still reaches every other pod', async () => {
    const statuses = await Promise.all(running.map((h) => world.cluster.routeStatus(h)));
    const table = await world.vpc.tableRoutes();
    const vpcKernel = await world.vpc.kernelRoutes();
    const watches = await Promise.all([c1, o1].map((h) => watchKernel(h.ns, 'p1')));
    let changes: string[][];
    let cells: string[];
    try {
      await world.cluster.stopController();
      // Longer than the leader TTL (2 s) and two agent resyncs (1 s).
      await new Promise((r) => setTimeout(r, 2500));
      cells = failures(await pingMatrix(world.lab, { pods: podsOf(running), count: 2 }));
    } finally {
      changes = await Promise.all(watches.map((w) => w.stop()));
    }
    assert.deepEqual(cells, []);
    assert.deepEqual(changes, [[], []]);
    assert.deepEqual(await Promise.all(running.map((h) => world.cluster.routeStatus(h))), statuses);
    assert.deepEqual(await world.vpc.tableRoutes(), table);
    assert.deepEqual(await world.vpc.kernelRoutes(), vpcKernel);
    await settle(running, new Set([c1, c2]));
  });

  it('a cloud host that joins while no controller runs is reached over vxlan; once the route status is stale every pair is', async () => {
    await world.cluster.startAgent(late);
    running = [...running, late];
    // Nobody vouches for the VPC routes any more (the heartbeat is older than its bound): the kernel path everywhere.
    await settle(running, new Set());
    assert.equal(await world.cluster.routeStatus(late), undefined);
    assert.deepEqual(failures(await pingMatrix(world.lab, { pods: podsOf(running), count: 2 })), []);
  });
});
