// `tartan audit --kube-subnet-mgr` as a process against the kube-apiserver emulator and
// the EC2 emulator: the same report as in etcd mode, from Nodes (podCIDRs, flannel's
// annotations, tartan's route-status annotation), reading only — no write to the
// apiserver, none to the cloud. Exit 0 clean, 1 drift, 2 could not audit.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AwsEmulator, startAwsEmulator } from '../emulators/aws-ec2/emulator.ts';
import { kubeHarness } from '../emulators/kube-apiserver/fixture.ts';
import { ROUTE_STATUS_ANNOTATION, annotationKeys, heartbeatAnnotation } from '../../src/lease/kube-node.ts';
import { encodeHeartbeat, encodeRouteStatus } from '../../src/lease/route-status.ts';
import { type CliRun, auditCli } from './support.ts';

const tartan = (args: readonly string[]): Promise<CliRun> => auditCli(args, { AWS_ACCESS_KEY_ID: 'AKIDKUBECLI', AWS_SECRET_ACCESS_KEY: 'secret', NODE_NAME: undefined });

const keys = annotationKeys();

describe('tartan audit --kube-subnet-mgr (the CLI, as a process)', () => {
  const h = kubeHarness();
  let emulator: AwsEmulator;
  let table: string;
  let flags: string[];
  let vpcDomain = '';
  const dir = mkdtempSync(join(tmpdir(), 'tartan-kube-audit-'));

  before(async () => {
    emulator = await startAwsEmulator();
    const vpcId = (await emulator.admin.seedVpc({ cidr: '192.168.0.0/16' })).id;
    table = (await emulator.admin.seedRouteTable({ vpcId, tags: { 'tartan.io/cluster': 'kcli' } })).id;
    const domain = `aws:${vpcId}`;
    vpcDomain = domain;
    for (const n of [1, 2]) {
      const instanceId = (await emulator.admin.seedInstance({ vpcId, privateIp: `192.168.0.${n}` })).id;
      const cidr = `10.244.${n}.0/24`;
      await emulator.admin.seedRoute({ routeTableId: table, destination: cidr, target: { instanceId } });
      const res = await h.raw('POST', '/api/v1/nodes', {
        body: {
          apiVersion: 'v1', kind: 'Node',
          metadata: {
            name: `n${n}`,
            annotations: {
              [keys.subnetManager]: 'true', [keys.backendType]: 'vxlan', [keys.publicIp]: `192.168.0.${n}`,
              [keys.backendData]: JSON.stringify({ VNI: 1, VtepMAC: `0e:00:00:00:00:0${n}`, RouteDomain: domain, InstanceID: instanceId }),
              [ROUTE_STATUS_ANNOTATION]: encodeRouteStatus({ state: 'programmed', tables: { [table]: 'programmed' }, provider: 'aws', updated: new Date().toISOString() }),
              // The controller's heartbeat rides on its own node (here n1): without it the statuses are stale.
              ...(n === 1 ? { [heartbeatAnnotation(domain)]: encodeHeartbeat({ observed: new Date().toISOString(), resyncSeconds: 60, provider: 'aws' }) } : {}),
            },
          },
          spec: { podCIDR: cidr, podCIDRs: [cidr] },
        },
      });
      assert.equal(res.status, 201, res.text);
    }
    const netConf = join(dir, 'net-conf.json');
    writeFileSync(netConf, JSON.stringify({ Network: '10.244.0.0/16', Backend: { Type: 'vxlan' } }));
    flags = [
      '--kube-subnet-mgr', '--kubeconfig-file', h.api.kubeconfigPath, '--net-config-path', netConf,
      '--provider', 'aws', '--cloud-endpoint', emulator.endpoint, '--region', 'us-east-1', '--vpc-id', vpcId, '--cluster-name', 'kcli',
    ];
  });
  after(async () => {
    await emulator.close();
  });

  test('clean: exit 0 from Nodes, and it only reads (no apiserver write, no cloud write)', async () => {
    h.api.admin.clearCalls();
    const r = await tartan(flags);
    assert.equal(r.code, 0, `${r.stderr}${r.stdout}`);
    assert.equal(r.stdout.split('\n')[0], 'OK: no drift in 1 table (2 leases, 2 ok)');
    assert.deepEqual(h.api.admin.calls().filter((c) => c.method !== 'GET').map((c) => `${c.method} ${c.path}`), []);
    assert.deepEqual((await emulator.admin.calls()).filter((c) => !c.action.startsWith('Describe')), [], 'reads only');
  });

  test('no heartbeat on any node: the statuses are stale (exit 1), as agents would judge them', async () => {
    const res = await h.raw('PATCH', '/api/v1/nodes/n1', { body: { metadata: { annotations: { [heartbeatAnnotation(vpcDomain)]: null } } }, contentType: 'application/strategic-merge-patch+json' });
    assert.equal(res.status, 200, res.text);
    const r = await tartan(flags);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /heartbeat\s+stale.*no controller heartbeat/);
  });

  test('drift: exit 1 with the missing route and the repair planned', async () => {
    await emulator.admin.removeRoute({ routeTableId: table, destination: '10.244.2.0/24' });
    const r = await tartan([...flags, '--output', 'json', '--plan']);
    assert.equal(r.code, 1, r.stderr);
    const report = JSON.parse(r.stdout) as { result: string; summary: { routes: { missing: number } }; plan: { actions: { op: string; destination: string }[] } };
    assert.equal(report.result, 'drift');
    assert.equal(report.summary.routes.missing, 1);
    assert.deepEqual(report.plan.actions.map((a) => [a.op, a.destination]), [['create', '10.244.2.0/24']]);
  });

  test('no kubeconfig and not in a pod: exit 2 naming the flags', async () => {
    const r = await tartan(['--kube-subnet-mgr', '--net-config-path', join(dir, 'net-conf.json'), '--provider', 'none']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--kubeconfig-file: is needed outside a pod/);
  });
});
