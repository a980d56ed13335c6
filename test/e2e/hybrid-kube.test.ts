// Hybrid in Kubernetes mode with the AWS emulator: the hybrid lab's three cloud hosts
// (each in its own VPC subnet behind the VPC router) and two on-prem hosts (one L2),
// leases as Nodes in the kube-apiserver emulator (real etcd), real `tartan agent
// --kube-subnet-mgr` processes in the host namespaces and one real `tartan controller
// --kube-subnet-mgr --provider aws` writing routes into the EC2 emulator's route
// table, which the VPC router's kernel follows. Paths are read from the kernel only.
//
// The steps build on each other (one cluster, started once):
//   agents only → everyone on the kernel fallback;
//   controller starts under 50 pings/s → cloud↔cloud switches to the VPC route, no loss;
//   cloud↔cloud via the VPC router (and only through it), cloud↔on-prem over vxlan,
//   route status and heartbeat as node annotations, every pod pings every pod;
//   controller stopped → statuses stay, the heartbeat goes stale, cloud peers move to
//   vxlan; controller back → VPC again; both switches under 50 pings/s, no loss.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ROUTE_STATUS_ANNOTATION, heartbeatAnnotation } from '../../src/lease/kube-node.ts';
import { heartbeatFresh, isProgrammed } from '../../src/lease/route-status.ts';
import { formatCidr } from '../../src/net/cidr.ts';
import { sharedEtcd } from '../support/etcd.ts';
import { type HybridHost, type HybridLab, type LabVpc, createHybridLab, failures, ping, pingMatrix, startLabVpc } from '../lab/index.ts';
import { type PairPath, pingsAcross, settlePaths } from '../lab/hybrid-paths.ts';
import { ipBatch } from '../lab/netns.ts';
import { type HybridKubeCluster, startHybridKubeCluster } from '../lab/hybrid-kube-cluster.ts';

const skip = process.getuid?.() === 0 ? false : 'needs root: builds network namespaces';

describe('hybrid in Kubernetes mode: VPC routes for cloud peers, vxlan for the rest', { skip }, () => {
  let etcd: Awaited<ReturnType<typeof sharedEtcd>>;
  let lab: HybridLab;
  let vpc: LabVpc;
  let cluster: HybridKubeCluster;
  let hosts: readonly HybridHost[];
  let cloud: readonly HybridHost[];
  let onprem: readonly HybridHost[];

  /** Cloud pairs over the VPC route when the peer is routed, the on-prem L2 over host-gw, everything else over vxlan. */
  const settle = (routed: ReadonlySet<HybridHost>): Promise<PairPath[]> => settlePaths({
    lab, clouds: vpc, hosts, details: () => cluster.logTail(),
    want: (from, to) => {
      if (from.kind === 'onprem' && to.kind === 'onprem') return 'host-gw';
      return from.kind === 'cloud' && to.kind === 'cloud' && routed.has(to) ? 'cloud' : 'vxlan';
    },
  });
  const allPods = () => hosts.flatMap((h) => h.pods);
  /** Runs `step` under 50 pings/s each way between two cloud pods and between a cloud and an on-prem pod. */
  const withoutLoss = (min: number, step: () => Promise<void>): Promise<void> => {
    const [c1, c2, o1] = [cloud[0]!.pods[0]!, cloud[1]!.pods[0]!, onprem[0]!.pods[0]!];
    return pingsAcross([[c1, c2], [c2, c1], [c1, o1], [o1, c1]], min, step);
  };

  before(async () => {
    etcd = await sharedEtcd();
    lab = await createHybridLab({ hosts: ['cloud', 'cloud', 'cloud', 'onprem', 'onprem'], podsPerHost: 1 });
    hosts = lab.hosts;
    cloud = hosts.filter((h) => h.kind === 'cloud');
    onprem = hosts.filter((h) => h.kind === 'onprem');
    vpc = await startLabVpc(lab);
    cluster = await startHybridKubeCluster(lab, vpc, { etcdEndpoint: etcd.endpoint });
    await Promise.all(hosts.map((h) => cluster.startAgent(h)));
  });
  after(async () => {
    await cluster?.destroy();
    await vpc?.close();
    await lab?.destroy();
    await etcd?.close();
  });

  it('without a controller every pair is on the kernel fallback: vxlan, host-gw inside the on-prem L2', async () => {
    await settle(new Set());
    assert.deepEqual(await vpc.kernelRoutes(), []);
    for (const h of hosts) assert.equal((await cluster.annotations(h))[ROUTE_STATUS_ANNOTATION], undefined, `${h.ns} has a route status`);
  });

  it('the controller starts under 50 pings/s: cloud↔cloud switches from vxlan to the VPC route without loss', async () => {
    await withoutLoss(50, async () => {
      await new Promise((r) => setTimeout(r, 500));
      cluster.startController(cloud[0]!);
      await settle(new Set(cloud));
    });
  });

  it('cloud↔cloud through the VPC router only, cloud↔on-prem over vxlan; route status and heartbeat on the Nodes; every pod pings every pod', async () => {
    const paths = await settle(new Set(cloud));
    for (const a of cloud) {
      for (const b of cloud.filter((x) => x !== a)) {
        assert.deepEqual(paths.find((p) => p.from === a && p.to === b)?.vxlanObjects, [], `${a.ns} still holds vxlan objects for ${b.ns}`);
      }
      for (const b of onprem) {
        assert.deepEqual(paths.find((p) => p.from === a && p.to === b)?.vxlanObjects, ['route', 'neigh', 'fdb'], `${a.ns} → ${b.ns}`);
        assert.deepEqual(paths.find((p) => p.from === b && p.to === a)?.vxlanObjects, ['route', 'neigh', 'fdb'], `${b.ns} → ${a.ns}`);
      }
    }
    // The route status is a node annotation: programmed on every cloud node, none on the on-prem ones.
    for (const h of cloud) {
      const text = (await cluster.annotations(h))[ROUTE_STATUS_ANNOTATION];
      assert.equal((JSON.parse(text ?? '{}') as { state?: string }).state, 'programmed', `${h.ns}: ${text}`);
      assert.ok(isProgrammed(await cluster.routeStatus(h)), `${h.ns} is not programmed`);
    }
    for (const h of onprem) assert.equal(await cluster.routeStatus(h), undefined, `on-prem ${h.ns} has a route status`);
    // The heartbeat rides on the controller's own node (NODE_NAME), and it is fresh.
    assert.ok((await cluster.annotations(cloud[0]!))[heartbeatAnnotation(vpc.domain)], 'heartbeat annotation on the controller\'s node');
    assert.ok(heartbeatFresh(await cluster.heartbeat(), Date.now()), 'the heartbeat is fresh');
    // The route table holds exactly the cloud nodes' podCIDRs, each to its instance.
    const table = (await vpc.tableRoutes()).filter((r) => r.target.instanceId !== undefined);
    assert.deepEqual(table.map((r) => `${r.destination} ${r.target.instanceId}`).sort(), cloud.map((h) => `${formatCidr(h.subnet)} ${vpc.instanceOf(h)}`).sort());
    assert.deepEqual(failures(await pingMatrix(lab, { pods: allPods(), count: 2 })), []);
    // The VPC router carries it: without its route c1's pod cannot reach c2's; the sync puts it back.
    const [c1, c2] = cloud as [HybridHost, HybridHost];
    await ipBatch(lab.vpcRouter, [`route del ${formatCidr(c2.subnet)} proto 200`]);
    assert.equal((await ping(c1.pods[0]!.ns, c2.pods[0]!.ip, { count: 1, timeout: 1 })).received, 0);
    await vpc.sync();
    assert.equal((await ping(c1.pods[0]!.ns, c2.pods[0]!.ip, { count: 2 })).received, 2);
  });

  it('controller stopped: statuses stay but the heartbeat goes stale, cloud peers move to vxlan; controller back: VPC again; no ping lost', async () => {
    const statuses = await Promise.all(cloud.map((h) => cluster.routeStatus(h)));
    await withoutLoss(200, async () => {
      await cluster.stopController();
      await settle(new Set());
      assert.equal(heartbeatFresh(await cluster.heartbeat(), Date.now()), false, 'the agents fell back while the heartbeat was fresh');
      assert.deepEqual(await Promise.all(cloud.map((h) => cluster.routeStatus(h))), statuses, 'the statuses stay as the controller left them');
      cluster.startController(cloud[1]!);
      await settle(new Set(cloud));
    });
    assert.ok(heartbeatFresh(await cluster.heartbeat(), Date.now()), 'the new heartbeat is fresh');
    assert.ok((await cluster.annotations(cloud[1]!))[heartbeatAnnotation(vpc.domain)], 'heartbeat on the restarted controller\'s node');
    assert.deepEqual(failures(await pingMatrix(lab, { pods: allPods(), count: 1 })), []);
  });
});
