// One cluster, two clouds, one on-prem host: real `tartan agent` processes on two
// hosts in the AWS emulator's VPC, two in the GCE emulator's network and one
// on-prem; one AWS and one GCE `tartan controller` (two processes, same cluster
// name), real etcd. Each cloud's routes reach the VPC router through a table of its
// own, taken only by packets from that cloud's hosts (test/lab/vpc.ts), so a pair
// that wrongly went raw across clouds would lose its packets.
//
// What must hold at once: both controllers lead (one per route domain); AWS↔AWS
// over the VPC route, GCE↔GCE over the GCE route, AWS↔GCE and cloud↔on-prem over
// vxlan (paths read from the kernel only); each cloud's route table holds exactly
// its own hosts' subnets; each domain's statuses are its own hosts' and its
// heartbeat is fresh; every pod pings every pod.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { electionScope } from '../../src/controller/election-scope.ts';
import { heartbeatFresh } from '../../src/lease/route-status.ts';
import { subnetKey } from '../../src/lease/lease.ts';
import { formatCidr } from '../../src/net/cidr.ts';
import { sharedEtcd, uniquePrefix } from '../support/etcd.ts';
import { type HybridHost, type PairPath, failures, observePaths, pathLines, pathTable, pingMatrix, waitFor } from '../lab/index.ts';
import { type HybridWorld, startHybridWorld } from '../lab/hybrid-world.ts';
import type { LabGce } from '../lab/hybrid-gce.ts';

const skip = process.getuid?.() === 0 ? false : 'needs root: builds network namespaces';

describe('hybrid, two clouds: one controller per cloud network, all three path kinds at once', { skip }, () => {
  let etcd: Awaited<ReturnType<typeof sharedEtcd>>;
  let world: HybridWorld;
  let gce: LabGce;
  let a1: HybridHost, a2: HybridHost, g1: HybridHost, g2: HybridHost, o1: HybridHost;
  const signal = new AbortController().signal;
  const details = (): string => world.cluster.logTail(25);
  const sorted = (hosts: readonly HybridHost[]): string[] => hosts.map((h) => formatCidr(h.subnet)).sort();

  before(async () => {
    etcd = await sharedEtcd();
    world = await startHybridWorld({
      hosts: ['cloud', 'cloud', 'cloud', 'cloud', 'onprem'], gceHosts: [3, 4], podsPerHost: 1, etcdEndpoint: etcd.endpoint, prefix: uniquePrefix('hybrid-2clouds'),
    });
    gce = world.gce!;
    [a1, a2, g1, g2, o1] = world.lab.hosts as [HybridHost, HybridHost, HybridHost, HybridHost, HybridHost];
    await Promise.all(world.lab.hosts.map((h) => world.cluster.startAgent(h)));
    world.cluster.startController('aws');
    world.cluster.startController('gce');
  });
  after(async () => {
    await world?.destroy();
    await etcd?.close();
  });

  it('the lab is what it says: two hosts per cloud, each publishing its own network as route domain, one on-prem', async () => {
    assert.deepEqual([a1, a2].map((h) => world.vpc.has(h) && !gce.has(h)), [true, true]);
    assert.deepEqual([g1, g2].map((h) => gce.has(h) && !world.vpc.has(h)), [true, true]);
    for (const [h, domain] of [[a1, world.vpc.domain], [g1, gce.domain], [o1, 'none']] as const) {
      const raw = await world.cluster.rawLease(h) as { BackendData?: { RouteDomain?: string } };
      assert.equal(raw.BackendData?.RouteDomain, domain, h.ns);
    }
  });

  it('both controllers lead at once, each on the key of its provider and route domain', async () => {
    const keys = {
      aws: `${world.cluster.prefix}/controller/leader/${electionScope('aws', world.vpc.domain).key}`,
      gce: `${world.cluster.prefix}/controller/leader/${electionScope('gce', gce.domain).key}`,
    };
    await waitFor('both controllers lead', async () =>
      (await world.cluster.client.get(keys.aws).string()) === 'aws-controller' && (await world.cluster.client.get(keys.gce).string()) === 'gce-controller',
    { timeoutMs: 30_000, details });
    assert.equal(await world.cluster.client.get(`${world.cluster.prefix}/controller/leader`).string(), null, 'nobody on the old cluster-wide key');
  });

  it('AWS↔AWS over the VPC route, GCE↔GCE over the GCE route, AWS↔GCE and cloud↔on-prem over vxlan', async () => {
    const cloudOf = (h: HybridHost): string => (world.vpc.has(h) ? 'aws' : gce.has(h) ? 'gce' : 'onprem');
    const hosts = world.lab.hosts;
    const want = pathLines(hosts.flatMap((from) => hosts.filter((to) => to !== from).map((to): PairPath => ({
      from, to, vxlanObjects: [], path: cloudOf(from) !== 'onprem' && cloudOf(from) === cloudOf(to) ? 'cloud' : 'vxlan',
    }))));
    let last: PairPath[] = [];
    await waitFor('the expected paths', async () => {
      last = await observePaths(world.lab, world.clouds);
      return JSON.stringify(pathLines(last)) === JSON.stringify(want);
    }, { timeoutMs: 45_000, details: () => `${pathTable(last, hosts)}\n${details()}` });
    // A cloud peer needs nothing in the kernel; every vxlan peer has its route, neigh and fdb.
    for (const p of last) assert.deepEqual(p.vxlanObjects, p.path === 'cloud' ? [] : ['route', 'neigh', 'fdb'], `${p.from.ns}→${p.to.ns}`);
  });

  it("each cloud's route table holds exactly its own hosts' subnets, to its own instances, and the router carries them in that cloud's table only", async () => {
    const aws = (await world.vpc.tableRoutes()).filter((r) => r.target.instanceId !== undefined);
    assert.deepEqual(aws.map((r) => `${r.destination} ${r.target.instanceId}`).sort(), [a1, a2].map((h) => `${formatCidr(h.subnet)} ${world.vpc.instanceOf(h)}`).sort());
    assert.deepEqual(gce.tableRoutes().map((r) => `${r.destRange} ${r.nextHopInstance}`).sort(), [g1, g2].map((h) => `${formatCidr(h.subnet)} ${gce.instanceOf(h)}`).sort());
    assert.deepEqual((await world.vpc.kernelRoutes()).map((r) => r.dst).sort(), sorted([a1, a2]));
    assert.deepEqual((await gce.kernelRoutes()).map((r) => r.dst).sort(), sorted([g1, g2]));
  });

  it("each route domain's statuses are its own hosts' (programmed) beside a fresh heartbeat of its own controller", async () => {
    for (const [domain, hosts, provider] of [[world.vpc.domain, [a1, a2], 'aws'], [gce.domain, [g1, g2], 'gce']] as const) {
      const read = await world.cluster.store.routeStatusFor(domain).listRouteStatus(signal);
      assert.deepEqual([...read.statuses.keys()].sort(), hosts.map((h) => subnetKey(h.subnet)).sort(), domain);
      for (const s of read.statuses.values()) assert.deepEqual([s.state, s.provider], ['programmed', provider]);
      assert.equal(read.heartbeat?.provider, provider);
      assert.ok(heartbeatFresh(read.heartbeat, Date.now()), `${domain}: heartbeat ${read.heartbeat?.observed} is stale`);
      assert.equal(read.unreadable.size, 0);
    }
    assert.equal((await world.cluster.store.routeStatusFor('none').listRouteStatus(signal)).statuses.size, 0, 'nobody writes statuses for on-prem hosts');
  });

  it('every pod pings every pod', async () => {
    const cells = await pingMatrix(world.lab, { count: 2, timeout: 2 });
    assert.equal(cells.length, 5 * 4);
    assert.deepEqual(failures(cells), [], details());
  });
});
