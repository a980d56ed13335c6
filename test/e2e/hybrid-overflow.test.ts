// Hybrid e2e, route table overflow: the VPC's route table holds one route (quota 1)
// and there are two cloud hosts. The controller is not told the quota (EC2 cannot
// report it): the cloud refuses the second create with RouteLimitExceeded. One host
// is then routed by the VPC and the other stays on vxlan, and every pod still reaches
// every other pod (the two directions of the pair take different paths). Raising
// the quota moves the second host onto the VPC at the next resync.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isProgrammed } from '../../src/lease/route-status.ts';
import { formatCidr } from '../../src/net/cidr.ts';
import { sharedEtcd, uniquePrefix } from '../support/etcd.ts';
import { type HybridHost, failures, observePaths, pathLines, pathTable, pingMatrix, shortName, waitFor } from '../lab/index.ts';
import { type HybridWorld, startHybridWorld } from '../lab/hybrid-world.ts';

const skip = process.getuid?.() === 0 ? false : 'needs root: builds network namespaces';

describe('hybrid: a full route table leaves the overflow on vxlan', { skip }, () => {
  let etcd: Awaited<ReturnType<typeof sharedEtcd>>;
  let world: HybridWorld;
  let hosts: HybridHost[];

  before(async () => {
    etcd = await sharedEtcd();
    world = await startHybridWorld({ hosts: ['cloud', 'cloud'], podsPerHost: 1, quota: 1, etcdEndpoint: etcd.endpoint, prefix: uniquePrefix('hybrid-overflow') });
    hosts = [...world.lab.hosts];
    await Promise.all(hosts.map((h) => world.cluster.startAgent(h)));
    world.cluster.startController();
  });
  after(async () => {
    await world?.destroy();
    await etcd?.close();
  });

  it('one host is routed by the VPC, the other is an overflow reached over vxlan; all pings succeed', async () => {
    const { routed, overflow } = await waitFor('one programmed and one overflow status', async () => {
      const states = await Promise.all(hosts.map(async (h) => ({ h, status: await world.cluster.routeStatus(h) })));
      const r = states.find((s) => isProgrammed(s.status));
      const o = states.find((s) => s.status?.state === 'overflow');
      return r && o ? { routed: r.h, overflow: o.h } : undefined;
    }, { timeoutMs: 30_000, details: () => world.cluster.logTail() });
    const table = (await world.vpc.tableRoutes()).filter((r) => r.target.instanceId !== undefined);
    assert.deepEqual(table.map((r) => r.destination), [formatCidr(routed.subnet)]);
    const want = [`${shortName(overflow)}→${shortName(routed)} cloud`, `${shortName(routed)}→${shortName(overflow)} vxlan`].sort();
    let last = await observePaths(world.lab, world.vpc);
    await waitFor('the overflow host to reach the routed one through the VPC', async () => {
      last = await observePaths(world.lab, world.vpc);
      return JSON.stringify(pathLines(last).sort()) === JSON.stringify(want);
    }, { details: () => `${pathTable(last, hosts)}\n${world.cluster.logTail()}` });
    assert.deepEqual(failures(await pingMatrix(world.lab, { count: 3 })), []);
  });

  it('raising the quota puts the second host on the VPC too at the next resync', async () => {
    await world.vpc.admin.setQuota({ routeTableId: world.vpc.routeTableId, quota: 2 });
    let last = await observePaths(world.lab, world.vpc);
    await waitFor('both pairs on the VPC', async () => {
      last = await observePaths(world.lab, world.vpc);
      return last.every((p) => p.path === 'cloud' && p.vxlanObjects.length === 0);
    }, { timeoutMs: 30_000, details: () => `${pathTable(last, hosts)}\n${world.cluster.logTail()}` });
    assert.deepEqual(failures(await pingMatrix(world.lab, { count: 3 })), []);
  });
});
