// The permissions the Terraform modules grant equal the API actions tartan calls.
// The route-table conformance suite and a controller flow (converge, a host moved,
// a lease gone) run against each cloud's emulator; every action an emulator
// answered is mapped to the permission it needs. A permission the code needs and
// the module lacks fails the controller in production; one the module grants and
// the code never uses is privilege nobody asked for. Both fail here.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Controller } from '../../src/controller/controller.ts';
import { DEFAULT_BUDGET } from '../../src/controller/planner.ts';
import { EtcdLeaseStore } from '../../src/lease/index.ts';
import { silentLogger } from '../../src/observe/log.ts';
import type { RouteTableWriter } from '../../providers/route-table.ts';
import { createGceProvider } from '../../providers/gce/index.ts';
import { ALICLOUD_GAPS, alicloudHarness } from '../conformance/alicloud.ts';
import { AWS_GAPS, awsHarness } from '../conformance/aws.ts';
import { GCE_GAPS, gceHarness } from '../conformance/gce.ts';
import { type RecordingHarness, routeTableConformance } from '../conformance/route-table.ts';
import { FAST, FIXTURE, startAlicloudFixture } from '../emulators/alicloud/fixture.ts';
import { startGceEmulator } from '../emulators/gce/index.ts';
import { etcdClientFixture, uniquePrefix } from '../support/etcd.ts';
import { NETWORK, type Host, acquireAll, agentAttrs, dropLease, forever, networkConfig, startAwsWorld } from '../e2e/controller-kit.ts';
import { AWS_PERMISSIONS, ALICLOUD_PERMISSIONS, GCE_PERMISSIONS, granted, permissionsFor } from './policies.ts';

type Cloud = 'aws' | 'gce' | 'alicloud';
const seen: Record<Cloud, Set<string>> = { aws: new Set(), gce: new Set(), alicloud: new Set() };

function recorded(cloud: Cloud, make: () => Promise<RecordingHarness>): () => Promise<RecordingHarness> {
  return async () => {
    const h = await make();
    return { ...h, close: async () => { for (const a of await h.actions()) seen[cloud].add(a); await h.close(); } };
  };
}

routeTableConformance('aws (recorded for the IAM policy)', recorded('aws', awsHarness), AWS_GAPS);
routeTableConformance('gce (recorded for the custom role)', recorded('gce', gceHarness), GCE_GAPS);
routeTableConformance('alicloud (recorded for the RAM policy)', recorded('alicloud', alicloudHarness), ALICLOUD_GAPS);

describe('controller flows (recorded for the policies)', () => {
  const etcd = etcdClientFixture();
  // Hosts 0-2 and any past 3 hold leases, host 3 is the spare: converge, lease 2's
  // host moves to the spare, lease 0 goes.
  async function flow(name: string, provider: RouteTableWriter, hosts: readonly Host[]): Promise<void> {
    const store = new EtcdLeaseStore({ client: etcd.client, prefix: uniquePrefix(`tf-${name}`) });
    const controller = new Controller({ config: networkConfig, leases: store, provider, status: store, budget: DEFAULT_BUDGET, resyncMs: 60_000, log: silentLogger() });
    const leases = await acquireAll(store, [...hosts.slice(0, 3), ...hosts.slice(4)]);
    await controller.reconcileOnce(forever);
    await store.renew({ ...leases[2]!, attrs: agentAttrs(hosts[3]!) }, forever);
    await dropLease(etcd.client, store, leases[0]!);
    await controller.reconcileOnce(forever);
    assert.equal((await controller.reconcileOnce(forever)).plan.actions.length, 0, `${name}: converged`);
  }

  test('aws', async () => {
    const world = await startAwsWorld({ tables: 2, quota: 50, instances: 4, limits: false, sourceDestCheck: true });
    try {
      // A host routed by its secondary interface (that interface's own SourceDestCheck).
      const multi = await world.admin.seedInstance({ vpcId: world.vpcId, enis: [{ privateIps: ['192.168.9.1'] }, { privateIps: ['192.168.9.2'] }] });
      const secondary = { ip: multi.enis[1]!.privateIps[0]!, domain: world.domain };
      await flow('aws', world.provider('AKIDTERRAFORM'), [...world.hosts(), secondary]);
      for (const c of await world.admin.calls()) seen.aws.add(c.action);
    } finally { await world.close(); }
  });

  test('gce', async () => {
    const emu = await startGceEmulator({ token: 'tf-token', operationTiming: { pendingMs: 5, runningMs: 10 } });
    const provider = createGceProvider({
      project: emu.project, network: 'tartan-net', endpoint: emu.endpoint, accessToken: 'tf-token',
      clusterName: 'tf', clusterNetworks: [NETWORK], rateLimits: { windowMs: 1000 }, retry: { baseMs: 10, maxMs: 200 },
    });
    try {
      const hosts = [0, 1, 2, 3].map((i) => ({ ip: `10.128.0.${i + 2}`, domain: 'gce:tartan-test/tartan-net' }));
      for (const [i, h] of hosts.entries()) emu.admin.addInstance({ zone: 'europe-west1-b', name: `node-${i}`, networkIP: h.ip });
      await flow('gce', provider, hosts);
      for (const c of emu.admin.calls()) if (c.id) seen.gce.add(c.id);
    } finally {
      await provider.close();
      await emu.close();
    }
  });

  test('alicloud', async () => {
    const f = await startAlicloudFixture({ emulator: FAST.emulator, provider: FAST.provider, instances: 4 });
    try {
      await flow('alicloud', f.provider, f.instances.map((i) => ({ ip: i.ip, instanceId: i.id, domain: `alicloud:${FIXTURE.vpcId}` })));
      for (const c of f.emu.admin.calls()) seen.alicloud.add(c.action);
    } finally { await f.close(); }
  });
});

describe('each module grants exactly the permissions the code needs', () => {
  const cases = [
    { cloud: 'aws', file: 'terraform/modules/aws/main.tf', table: AWS_PERMISSIONS },
    { cloud: 'gce', file: 'terraform/modules/gce/main.tf', table: GCE_PERMISSIONS },
    { cloud: 'alicloud', file: 'terraform/modules/alicloud/main.tf', table: ALICLOUD_PERMISSIONS },
  ] as const;
  for (const { cloud, file, table } of cases) {
    test(`${cloud}: ${file}`, async () => {
      assert.ok(seen[cloud].size > 0, 'the recording runs above saw calls');
      const needed = permissionsFor(seen[cloud], table);
      const grants = await granted(cloud, file);
      const missing = [...needed.keys()].filter((p) => !grants.has(p)).map((p) => `${p} (for ${needed.get(p)!.join(', ')})`);
      const unused = [...grants].filter((p) => !needed.has(p));
      assert.deepEqual({ missing, unused }, { missing: [], unused: [] },
        `${file}: permissions the code needs but the module lacks, and granted ones no call uses (calls seen: ${[...seen[cloud]].sort().join(', ')})`);
    });
  }
});
