// `tartan controller --kube-subnet-mgr --provider aws` at 1,000 Nodes (quick: 200):
// the Nodes (realistic size, RouteDomain aws:<vpc> and InstanceID in backend-data) in
// an emulator of their own, the EC2 emulator in a process of its own with EC2's
// documented buckets (mutating 50 + 5/s). Measured as controller.bench.ts measures
// etcd mode: convergence against the lower bound the mutating bucket allows; then the
// node status patches a pass sends: none when nothing changed, one per node whose
// route status changed (nodes moved to another VPC: their status is removed).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CallRecord as AwsCall } from '../emulators/aws-ec2/admin.ts';
import { DOCUMENTED_LIMITS } from '../emulators/aws-ec2/limits.ts';
import type { CallRecord as KubeCall } from '../emulators/kube-apiserver/admin.ts';
import { rawRequest } from '../emulators/kube-apiserver/fixture.ts';
import { type AwsWorld, awsEnv, spawnController, startAwsWorld, waitFor } from '../e2e/controller-kit.ts';
import { syntheticPeer } from '../lab/bench-host.ts';
import { freePort } from '../support/ports.ts';
import { metric } from './controller-world.ts';
import { NET_CONF, clientKubeconfig, peerNode, realisticNode, startBenchApiserver, withOutput, writeNodes } from './kube-world.ts';
import type { BenchRow } from './result.ts';

const SUITE = 'kube';
const KEY = 'AKIDKUBEBENCH';
const USER = 'tartan-controller';
const HEARTBEAT_NODE = 'node-0';
const MOVED = 10;

export async function controllerRows(o: { etcdEndpoint: string; dir: string; n: number }): Promise<BenchRow[]> {
  const { n, dir } = o;
  const quota = n + 10;
  const world = await startAwsWorld({ spawned: true, tables: 1, quota, instances: n });
  const api = await startBenchApiserver({ etcdEndpoint: o.etcdEndpoint, prefix: `/bench-kube-controller-${process.pid}`, kubeconfigPath: join(dir, 'ctl-admin.kubeconfig') });
  try {
    const hosts = world.hosts(0, n);
    await writeNodes(api, hosts.map((h, i) => realisticNode({
      ...peerNode(`node-${i}`, syntheticPeer(i), { RouteDomain: world.domain, InstanceID: h.instanceId }), publicIp: h.ip,
    }, i)));
    const netConf = join(dir, 'ctl-net-conf.json');
    writeFileSync(netConf, NET_CONF);
    const metricsPort = await freePort();
    const ctl = spawnController({
      identity: 'bench',
      args: [
        '--kube-subnet-mgr', '--kubeconfig-file', clientKubeconfig(api, dir, USER), '--net-config-path', netConf,
        '--provider', 'aws', '--cloud-endpoint', world.endpoint, '--region', 'us-east-1', '--vpc-id', world.vpcId,
        '--cluster-name', world.clusterName, '--route-quota', String(quota), '--resync-period', '2s', '--log-level', 'warn',
        '--metrics-port', String(metricsPort),
      ],
      env: { ...awsEnv(KEY), NODE_NAME: HEARTBEAT_NODE },
    });
    try {
      const rows = await convergence(world, n);
      const passes = () => metric(metricsPort, /^tartan_controller_passes_total\{/);
      const patches = (calls: readonly KubeCall[]) => calls.filter((c) => c.user === USER && c.method === 'PATCH' && /\/status$/.test(c.path.split('?')[0]!));
      const heartbeat = (c: KubeCall) => c.path.startsWith(`/api/v1/nodes/${HEARTBEAT_NODE}/status`);
      // Steady: a few passes with nothing changed.
      await waitFor('the passes after convergence', async () => (await passes()) >= 2 && statusCount(api.admin.calls(), USER) >= n, 60_000);
      const settled = await passes();
      await waitFor('two more passes', async () => (await passes()) >= settled + 2, 20_000);
      api.admin.clearCalls();
      const p0 = await passes();
      await waitFor('five passes', async () => (await passes()) >= p0 + 5, 30_000);
      const idle = patches(api.admin.calls());
      const idlePasses = (await passes()) - p0;
      const idleStatus = idle.filter((c) => !heartbeat(c)).length;
      // Change: MOVED nodes now say they are in another VPC; their routes go and so does their status.
      api.admin.clearCalls();
      const since = Date.now();
      const p1 = await passes();
      for (let i = 1; i <= MOVED; i++) {
        const data = JSON.stringify({ ...syntheticPeer(i).attrs.backendData as object, RouteDomain: 'aws:vpc-elsewhere', InstanceID: hosts[i]!.instanceId });
        const res = await rawRequest(api, 'PATCH', `/api/v1/nodes/node-${i}`, { body: { metadata: { annotations: { 'flannel.alpha.coreos.com/backend-data': data } } }, contentType: 'application/merge-patch+json' });
        if (res.status !== 200) throw new Error(`patch node-${i}: ${res.status} ${res.text}`);
      }
      await waitFor(`${MOVED} DeleteRoutes`, async () => (await world.admin.calls({ since })).filter((c) => c.accessKeyId === KEY && c.action === 'DeleteRoute' && c.code === 'ok').length >= MOVED || undefined, 30_000);
      const p2 = await passes();
      await waitFor('two more passes', async () => (await passes()) >= p2 + 2, 20_000);
      const changed = patches(api.admin.calls()).filter((c) => !heartbeat(c));
      const changePasses = (await passes()) - p1;
      rows.push(
        {
          suite: SUITE, metric: `controller ${n} nodes, steady: node status patches per pass`, value: idleStatus / idlePasses, unit: 'patches', target: '0', met: idleStatus === 0,
          note: `${idlePasses} passes at a 2 s resync; besides: ${idle.filter(heartbeat).length} heartbeat patches on ${HEARTBEAT_NODE}`,
        },
        {
          suite: SUITE, metric: `controller ${n} nodes, ${MOVED} nodes moved to another VPC: node status patches`, value: changed.length, unit: 'patches',
          target: `= ${MOVED} (nodes whose status changed)`, met: changed.length === MOVED,
          note: `over ${changePasses} passes from the change until two passes after the last DeleteRoute; nodes patched: ${new Set(changed.map((c) => c.path.split('/')[4])).size}`,
        },
      );
      return rows;
    } catch (err) {
      throw withOutput(err, ctl.output());
    } finally {
      await ctl.stop();
    }
  } finally {
    await api.close();
    await world.close();
  }
}

function statusCount(calls: readonly KubeCall[], user: string): number {
  return calls.filter((c) => c.user === user && c.method === 'PATCH').length;
}

/** First cloud call → last CreateRoute, against max(0, (N − 50) / 5) s (as controller.bench.ts measures etcd mode). */
async function convergence(world: AwsWorld, n: number): Promise<BenchRow[]> {
  const log = async () => (await world.admin.calls()).filter((c) => c.accessKeyId === KEY);
  const created = (c: AwsCall) => c.action === 'CreateRoute' && c.code === 'ok';
  await waitFor(`${n} routes`, async () => (await log()).filter(created).length >= n || undefined, 20_000 + n * 400);
  const calls = await log();
  const wall = (Math.max(...calls.filter(created).map((c) => c.time)) - Math.min(...calls.map((c) => c.time))) / 1000;
  const { capacity, refillPerSecond } = DOCUMENTED_LIMITS.mutating;
  const bound = Math.max(0, (n - capacity) / refillPerSecond);
  const label = `controller ${n} nodes (aws)`;
  return [
    { suite: SUITE, metric: `${label}: convergence (first cloud call → last CreateRoute)`, value: wall, unit: 's', note: `lower bound ${bound.toFixed(0)} s = max(0, (N − ${capacity}) / ${refillPerSecond})` },
    {
      suite: SUITE, metric: `${label}: convergence / lower bound`, value: wall / bound, unit: '×', target: '≤ 1.1', met: wall / bound <= 1.1,
      note: `${calls.length} EC2 calls so far, ${calls.filter((c) => c.code === 'RequestLimitExceeded').length} of them throttled`,
    },
  ];
}
