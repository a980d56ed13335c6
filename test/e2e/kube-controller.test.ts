// `tartan controller --kube-subnet-mgr` as processes against the kube-apiserver
// emulator (real etcd) and the EC2 emulator: leases from Nodes, one coordination.k8s.io
// Lease per cloud network, route status as node annotations patched only on change,
// the heartbeat on the controller's own node, a Warning Event on a node whose route
// fails, and a SIGKILLed leader replaced within the lease duration + one pass.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kubeHarness } from '../emulators/kube-apiserver/fixture.ts';
import { ROUTE_STATUS_ANNOTATION, annotationKeys, heartbeatAnnotation } from '../../src/lease/kube-node.ts';
import { electionScope } from '../../src/controller/election-scope.ts';
import { type ControllerProcess, type Host, NETWORK, agentAttrs, awsEnv, spawnController, startAwsWorld, waitFor } from './controller-kit.ts';

const keys = annotationKeys();

describe('controller in Kubernetes mode (kube-apiserver + EC2 emulators)', () => {
  const h = kubeHarness();
  const dir = mkdtempSync(join(tmpdir(), 'tartan-kube-ctl-'));
  const netConf = join(dir, 'net-conf.json');
  writeFileSync(netConf, JSON.stringify({ Network: NETWORK, Backend: { Type: 'vxlan' } }));

  const nodeBody = (name: string, cidr: string, host: Host): Record<string, unknown> => {
    const attrs = agentAttrs(host);
    return {
      apiVersion: 'v1', kind: 'Node',
      metadata: {
        name,
        annotations: {
          [keys.subnetManager]: 'true', [keys.backendType]: attrs.backendType,
          [keys.backendData]: JSON.stringify(attrs.backendData), [keys.publicIp]: attrs.publicIp,
        },
      },
      spec: { podCIDR: cidr, podCIDRs: [cidr] },
    };
  };
  const annotations = async (name: string): Promise<Record<string, string>> =>
    ((await h.raw('GET', `/api/v1/nodes/${name}`)).json<{ metadata: { annotations?: Record<string, string> } }>()).metadata.annotations ?? {};
  const statusOf = async (name: string): Promise<string | undefined> => {
    const text = (await annotations(name))[ROUTE_STATUS_ANNOTATION];
    return text === undefined ? undefined : (JSON.parse(text) as { state: string }).state;
  };

  test('routes every node of its VPC, status on the nodes once, heartbeat, Events; a SIGKILLed leader is replaced', async (t) => {
    const world = await startAwsWorld({ tables: 1, quota: 6, instances: 8, limits: false });
    const controllers: ControllerProcess[] = [];
    t.after(async () => {
      for (const c of controllers) await c.stop('SIGKILL');
      await world.close();
    });
    const hosts = world.hosts(0, 8);
    // Seven nodes of this VPC (the table holds 6: one overflows), one of another cloud network.
    for (let i = 0; i < 7; i++) assert.equal((await h.raw('POST', '/api/v1/nodes', { body: nodeBody(`n${i}`, `10.244.${i}.0/24`, hosts[i]!) })).status, 201);
    assert.equal((await h.raw('POST', '/api/v1/nodes', { body: nodeBody('gce-node', '10.244.50.0/24', { ip: '10.128.0.9', domain: 'gce:projects/p/global/networks/n' }) })).status, 201);
    const kubeconfig = h.api.kubeconfigPath;
    const args = (identity: string): string[] => [
      '--kube-subnet-mgr', '--kubeconfig-file', kubeconfig, '--net-config-path', netConf,
      '--leader-elect-resource-namespace', 'default', '--leader-elect-lease-duration', '3s', '--leader-elect-renew-deadline', '2s', '--leader-elect-retry-period', '500ms',
      '--provider', 'aws', '--cloud-endpoint', world.endpoint, '--region', 'us-east-1', '--vpc-id', world.vpcId, '--cluster-name', world.clusterName,
      '--route-quota', '6', '--resync-period', '2s', '--identity', identity,
    ];
    const start = (identity: string, node: string): ControllerProcess => {
      const c = spawnController({ identity, args: args(identity), env: { ...awsEnv('AKIDKUBE'), NODE_NAME: node } });
      controllers.push(c);
      return c;
    };
    const a = start('ctl-a', 'n0');
    await waitFor('six nodes programmed, one overflowing', async () => {
      const states = await Promise.all([0, 1, 2, 3, 4, 5, 6].map((i) => statusOf(`n${i}`)));
      return states.filter((s) => s === 'programmed').length === 6 && states.filter((s) => s === 'overflow').length === 1;
    }, { timeoutMs: 30_000, details: () => a.output().slice(-3000) });
    const b = start('ctl-b', 'n1');
    const routes = await world.admin.routes({ routeTableId: world.tables[0]! });
    assert.equal(routes.filter((r) => r.origin === 'CreateRoute').length, 6);
    assert.equal(await statusOf('gce-node'), undefined, 'a node of another cloud network gets no status from the AWS controller');
    assert.equal(routes.some((r) => r.destination === '10.244.50.0/24'), false);

    // The heartbeat rides on the leader's own node; the election Lease is per cloud network.
    const hb = (await annotations('n0'))[heartbeatAnnotation(world.domain)];
    assert.ok(hb, 'heartbeat annotation on the leader\'s node');
    assert.equal((JSON.parse(hb) as { resyncSeconds: number }).resyncSeconds, 2);
    const leaseName = electionScope('aws', world.domain).kubeLeaseName;
    const lease = (await h.raw('GET', `/apis/coordination.k8s.io/v1/namespaces/default/leases/${leaseName}`)).json<{ spec: { holderIdentity: string; renewTime: string } }>();
    assert.equal(lease.spec.holderIdentity, 'ctl-a');
    assert.match(lease.spec.renewTime, /\.\d{6}Z$/);

    // The overflowing node got one Warning Event, as the cloud route controller reports a failed route.
    const events = (await h.raw('GET', '/api/v1/namespaces/default/events')).json<{ items: { involvedObject: { name: string }; reason: string; type: string }[] }>().items;
    const warnings = events.filter((e) => e.type === 'Warning');
    assert.equal(warnings.length, 1, JSON.stringify(warnings));
    assert.equal(warnings[0]!.reason, 'RouteTableFull');

    // Steady state: passes go on (heartbeats), but no node status patch beyond the heartbeat.
    h.api.admin.clearCalls();
    await new Promise((r) => setTimeout(r, 5000));
    const patches = h.api.admin.calls().filter((c) => c.method === 'PATCH');
    assert.ok(patches.length >= 1, 'heartbeats continue');
    assert.ok(patches.every((c) => c.path === '/api/v1/nodes/n0/status'), `only the heartbeat is patched at steady state: ${patches.map((c) => c.path).join(', ')}`);

    // The leader dies without a word; the standby takes over within the lease duration + one
    // round. Judged by the Lease's own times (the killed leader's last renewTime, the new
    // holder's acquireTime), not by this test's polling: the standby sees the record stop
    // changing within a retry period (≤ 0.5 s × 2.2), waits the 3 s duration, and takes it at
    // its next round (≤ 1.1 s more); 1.5 s is left for the rounds' own calls on a busy machine.
    type LeaseSpec = { spec: { holderIdentity: string; renewTime: string; acquireTime: string } };
    const leasePath = `/apis/coordination.k8s.io/v1/namespaces/default/leases/${leaseName}`;
    await a.stop('SIGKILL');
    const lastRenew = Date.parse((await h.raw('GET', leasePath)).json<LeaseSpec>().spec.renewTime);
    const taken = await waitFor('ctl-b leads', async () => {
      const l = (await h.raw('GET', leasePath)).json<LeaseSpec>();
      return l.spec.holderIdentity === 'ctl-b' ? l : undefined;
    }, 15_000);
    const takeover = Date.parse(taken.spec.acquireTime) - lastRenew;
    assert.ok(takeover >= 3000, `not before the lease duration: ${takeover} ms`);
    assert.ok(takeover <= 3000 + 2 * 1100 + 1500, `takeover ${takeover} ms after the dead leader's last renewal`);
    await waitFor('the new leader\'s heartbeat on its own node', async () => (await annotations('n1'))[heartbeatAnnotation(world.domain)] !== undefined, 10_000);
    // No duplicate or wrong write: still six routes, every one to its node's instance.
    const after = (await world.admin.routes({ routeTableId: world.tables[0]! })).filter((r) => r.origin === 'CreateRoute');
    assert.equal(after.length, 6);
    for (const r of after) {
      const i = Number(r.destination.split('.')[2]);
      assert.equal(r.target.instanceId, world.instances[i]!.id, `${r.destination} → its node's instance`);
    }
    assert.equal(b.child.exitCode, null);
  });
});
