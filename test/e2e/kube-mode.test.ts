// Kubernetes mode end to end: the kube-apiserver emulator on the real etcd, Nodes as
// kube-controller-manager leaves them, real `tartan agent --kube-subnet-mgr` processes
// in lab namespaces (vxlan). Every pod reaches every pod; the node annotations are
// flannel's, byte for byte; a node without a podCIDR waits (not ready) and goes on
// when one is assigned; a node annotated by hand exactly as flanneld annotates it,
// with flannel's data plane made by hand, is reached over vxlan; the apiserver going
// away freezes the data plane as it is (0 pings lost) and the agents resume; a deleted
// node's routes go.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { formatCidr } from '../../src/net/cidr.ts';
import { annotationKeys } from '../../src/lease/kube-node.ts';
import { sharedEtcd } from '../support/etcd.ts';
import { waitFor } from '../support/wait.ts';
import { subnetFileOf } from '../lab/agents.ts';
import { type KubeLab, startKubeLab } from '../lab/kube-cluster.ts';
import { type Lab, createLab } from '../lab/lab.ts';
import { ipBatch, nsExec } from '../lab/netns.ts';
import { failures, ping, pingMatrix, pingSequence } from '../lab/ping.ts';

const root = process.getuid?.() === 0;
const keys = annotationKeys();
const FLANNEL_MAC = '0e:fa:11:e1:00:04';

describe('Kubernetes mode: agents on Nodes', { skip: root ? false : 'needs root for network namespaces' }, () => {
  let lab: Lab;
  let kube: KubeLab;
  let etcd: Awaited<ReturnType<typeof sharedEtcd>>;

  const node = async (name: string): Promise<{ metadata: { annotations?: Record<string, string> }; status?: { conditions?: { type: string; status: string; reason?: string }[] } }> =>
    (await kube.raw('GET', `/api/v1/nodes/${name}`)).json();
  const env = (i: number): string => {
    try {
      return readFileSync(subnetFileOf(lab.hosts[i]!, kube.dir), 'utf8');
    } catch {
      return '';
    }
  };
  const routesOn = async (i: number): Promise<string> => (await nsExec(lab.hosts[i]!.ns, 'ip', ['route', 'show'])).stdout;

  before(async () => {
    etcd = await sharedEtcd();
    lab = await createLab({ hosts: 4, podsPerHost: 1 });
    kube = await startKubeLab(lab, { etcdEndpoint: etcd.endpoint, bookmarkIntervalMs: 2000 });
  });
  after(async () => {
    await kube?.destroy();
    await lab?.destroy();
    await etcd?.close();
  });

  test('three nodes: subnet.env from the podCIDR, flannel\'s annotations, NetworkUnavailable=False, every pod reaches every pod', async () => {
    for (const i of [0, 1]) {
      await kube.createNode(lab.hosts[i]!);
      kube.startAgent(lab.hosts[i]!, ['--resync-period', '30s', '--healthz-port', '18081']);
    }
    // The third node has no podCIDR yet: its agent waits, says why, and is not ready.
    await kube.createNode(lab.hosts[2]!, { podCIDR: null });
    kube.startAgent(lab.hosts[2]!, ['--resync-period', '30s', '--healthz-port', '18081']);
    await waitFor('the waiting agent to say why', () => /has no spec\.podCIDR: kube-controller-manager assigns it only with --allocate-node-cidrs/.test(kube.logTail(lab.hosts[2]!, 50)), 20_000);
    const ready = await nsExec(lab.hosts[2]!.ns, 'curl', ['-s', '-w', ' %{http_code}', 'http://127.0.0.1:18081/readyz']);
    assert.match(ready.stdout, /no spec\.podCIDR.* 503$/s);
    assert.equal(env(2), '');
    const cidr = formatCidr(lab.hosts[2]!.subnet);
    const res = await kube.raw('PATCH', `/api/v1/nodes/${kube.nodeName(lab.hosts[2]!)}`, { body: { spec: { podCIDR: cidr, podCIDRs: [cidr] } }, contentType: 'application/strategic-merge-patch+json' });
    assert.equal(res.status, 200, res.text);

    for (const i of [0, 1, 2]) {
      const h = lab.hosts[i]!;
      await waitFor(`subnet.env on ${h.ns}`, () => env(i).includes('FLANNEL_MTU'), { timeoutMs: 30_000, details: () => kube.logTail(h) });
      assert.match(env(i), new RegExp(`FLANNEL_SUBNET=10\\.42\\.${h.index}\\.1/24`));
      assert.match(env(i), /FLANNEL_NETWORK=10\.42\.0\.0\/16/);
      const n = await waitFor(`NetworkUnavailable=False on ${h.ns}`, async () => {
        const got = await node(kube.nodeName(h));
        return got.status?.conditions?.some((c) => c.type === 'NetworkUnavailable' && c.status === 'False' && c.reason === 'TartanIsUp') ? got : undefined;
      }, 20_000);
      const a = n.metadata.annotations ?? {};
      assert.equal(a[keys.subnetManager], 'true');
      assert.equal(a[keys.backendType], 'vxlan');
      assert.match(a[keys.backendData] ?? '', /^\{"VNI":1,"VtepMAC":"[0-9a-f:]{17}"\}$/);
      assert.equal(a[keys.publicIp], h.ip);
    }
    const pods = lab.pods.slice(0, 3);
    await waitFor('every pod reaches every pod', async () => failures(await pingMatrix(lab, { pods, count: 1, timeout: 1 })).length === 0, 30_000);
    const cells = await pingMatrix(lab, { pods, count: 3 });
    assert.deepEqual(failures(cells), []);
  });

  test('a node annotated by hand as flanneld annotates it (flannel\'s data plane made by hand) is reached over vxlan', async () => {
    const h4 = lab.hosts[3]!;
    const h1 = lab.hosts[0]!;
    const n1 = (await node(kube.nodeName(h1))).metadata.annotations ?? {};
    const mac1 = (JSON.parse(n1[keys.backendData]!) as { VtepMAC: string }).VtepMAC;
    // What flanneld does on its host: flannel.1 (VNI 1, its MAC, the subnet's .0/32), a route, neigh and fdb per peer.
    await ipBatch(h4.ns, [
      `link add flannel.1 type vxlan id 1 local ${h4.ip} dev eth0 dstport 8472 nolearning`,
      `link set flannel.1 address ${FLANNEL_MAC} mtu 1450 up`,
      `address add 10.42.${h4.index}.0/32 dev flannel.1`,
      `route add 10.42.${h1.index}.0/24 via 10.42.${h1.index}.0 dev flannel.1 onlink`,
      `neigh add 10.42.${h1.index}.0 lladdr ${mac1} dev flannel.1 nud permanent`,
    ]);
    const fdb = await nsExec(h4.ns, 'bridge', ['fdb', 'append', mac1, 'dev', 'flannel.1', 'dst', h1.ip]);
    assert.equal(fdb.code, 0, fdb.stderr);
    await kube.createNode(h4, {
      annotations: {
        [keys.subnetManager]: 'true', [keys.backendType]: 'vxlan',
        [keys.backendData]: `{"VNI":1,"VtepMAC":"${FLANNEL_MAC}"}`, [keys.publicIp]: h4.ip,
      },
    });
    const pod1 = lab.pods[0]!;
    const pod4 = lab.pods[3]!;
    await waitFor('pod on host 1 reaches the flannel node\'s pod', async () => (await ping(pod1.ns, pod4.ip, { count: 1, timeout: 1 })).received === 1, 20_000);
    assert.match(await routesOn(0), new RegExp(`10\\.42\\.${h4.index}\\.0/24 via 10\\.42\\.${h4.index}\\.0 dev flannel\\.1 proto 116 onlink`));
  });

  test('apiserver away: the data plane stays as it is (0 pings lost); the agents resume and see a change made meanwhile', async () => {
    const [p1, p2] = [lab.pods[0]!, lab.pods[1]!];
    const seq = pingSequence(p1.ns, p2.ip, { interval: 0.05, maxSeconds: 60 });
    await kube.setReachable(false);
    await new Promise((r) => setTimeout(r, 6000));
    // Meanwhile the flannel node's public IP changes (the agents cannot see it yet).
    const res = await kube.raw('PATCH', `/api/v1/nodes/${kube.nodeName(lab.hosts[3]!)}`, { body: { metadata: { annotations: { [keys.backendData]: '{"VNI":1,"VtepMAC":"0e:fa:11:e1:00:44"}' } } }, contentType: 'application/strategic-merge-patch+json' });
    assert.equal(res.status, 200);
    assert.match(await routesOn(1), /10\.42\.4\.0\/24 via 10\.42\.4\.0 dev flannel\.1/, 'no route deleted while the apiserver is away');
    await kube.setReachable(true);
    await waitFor('host 2 programs the changed VtepMAC', async () => (await nsExec(lab.hosts[1]!.ns, 'ip', ['neigh', 'show', 'dev', 'flannel.1'])).stdout.includes('0e:fa:11:e1:00:44'), 45_000);
    const r = await seq.stop();
    assert.ok(r.answered > 100, `pings answered: ${r.answered}`);
    assert.deepEqual(r.missing, [], 'no ping lost while the apiserver was away');
  });

  test('a deleted node\'s routes and neighbours go from every host', async () => {
    assert.equal((await kube.raw('DELETE', `/api/v1/nodes/${kube.nodeName(lab.hosts[3]!)}`)).status, 200);
    for (const i of [0, 1, 2]) {
      await waitFor(`host ${i + 1} drops 10.42.4.0/24`, async () => !(await routesOn(i)).includes('10.42.4.0/24'), 20_000);
    }
  });
});
