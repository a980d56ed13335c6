// Pods on three hosts through what a node really runs (test/lab/cni-nodes.ts): the plugin's
// single executable put into a CNI bin dir by `tartan install-cni`, kube-flannel's conflist
// (flannel, then portmap) run as a runtime runs it for a pod sandbox, Debian's bridge,
// host-local, portmap and loopback. Real `tartan agent` processes write subnet.env and
// program the hosts, on either control plane:
//   etcd mode, vxlan              the agents pick their subnets from etcd;
//   Kubernetes mode, vxlan        "Kubernetes without a kubelet": the kube-apiserver
//   Kubernetes mode, host-gw      emulator, Nodes created with their podCIDRs (kube-
//                                 controller-manager's part), `agent --kube-subnet-mgr`.
// Each: an ADD before subnet.env fails cleanly and works after; pods reach each other across
// the hosts; DEL gives every address back. vxlan in both modes also: a hostPort reaches a pod
// from another host; an agent restart loses no ping. Run in etcd mode only: 50 ADDs at once
// get 50 addresses — host-local and the plugin's delegate do not depend on the lease store,
// and subnet.env is the same file whichever agent wrote it. host-gw runs the reach and DEL
// checks only (its difference is the route the agent programs, nothing on the CNI side).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCniExecutable } from '../../scripts/build-cni.ts';
import { containsIp, formatCidr, parseIp } from '../../src/net/cidr.ts';
import { sharedEtcd, startEtcd } from '../support/etcd.ts';
import { stopChild } from '../support/process.ts';
import { waitFor } from '../support/wait.ts';
import { type HostSubnet, startLabAgent, subnetFileOf, waitSubnetEnv } from '../lab/agents.ts';
import { type CniLabPod, type CniNodes, cniLabSkip, installCniNodes } from '../lab/cni-nodes.ts';
import { startKubeLab } from '../lab/kube-cluster.ts';
import { type Lab, type LabHost, createLab } from '../lab/lab.ts';
import { nsExec } from '../lab/netns.ts';
import { failures, ping, pingMatrix, pingSequence } from '../lab/ping.ts';
import { peerAddressSeenBy, startPeerAddressServer } from '../lab/tcp.ts';

const skip = cniLabSkip();
/** Named skips (see the header): what one suite proves for all. */
const ETCD_ONLY = 'run once, in etcd mode: host-local and the delegate do not depend on the lease store';
const NOT_BACKEND = 'run with vxlan: the backend changes the route the agent programs, nothing on the CNI side';
const PARALLEL = 50;

/** What writes subnet.env and programs the hosts: etcd-mode or Kubernetes-mode agents. */
interface ControlPlane {
  /** Where the agents write subnet.env and their logs (`<host ns>.log`). */
  readonly dir: string;
  startAgent(h: LabHost): void;
  stopAgent(h: LabHost): Promise<number | null>;
  /** The subnet the host must get, when the control plane fixes it up front (a Node's podCIDR). */
  plannedSubnet(h: LabHost): string | undefined;
  destroy(): Promise<void>;
}

async function etcdPlane(lab: Lab, backend: string): Promise<ControlPlane> {
  const dir = mkdtempSync(join(tmpdir(), 'tartan-cni-etcd-'));
  const h1 = lab.hosts[0]!;
  const etcd = await startEtcd({ netns: h1.ns, host: h1.ip });
  const netConfigPath = join(dir, 'net-conf.json');
  writeFileSync(netConfigPath, JSON.stringify({ Network: lab.network, Backend: { Type: backend } }));
  const agents = new Map<LabHost, ReturnType<typeof startLabAgent>>();
  return {
    dir,
    startAgent: (h) => void agents.set(h, startLabAgent(h, { dir, etcdEndpoint: etcd.endpoint, netConfigPath })),
    stopAgent: async (h) => stopChild(agents.get(h)!),
    plannedSubnet: () => undefined,
    destroy: async () => {
      for (const a of agents.values()) await stopChild(a);
      await etcd.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function kubePlane(lab: Lab, backend: string): Promise<ControlPlane> {
  const etcd = await sharedEtcd();
  const kube = await startKubeLab(lab, { etcdEndpoint: etcd.endpoint, backend: { Type: backend } });
  for (const h of lab.hosts) await kube.createNode(h);
  return {
    dir: kube.dir,
    startAgent: (h) => void kube.startAgent(h, ['--resync-period', '10s']),
    stopAgent: (h) => kube.stopAgent(h),
    plannedSubnet: (h) => formatCidr(h.subnet),
    destroy: async () => {
      await kube.destroy();
      await etcd.close();
    },
  };
}

interface Suite {
  readonly name: string;
  readonly backend: 'vxlan' | 'host-gw';
  readonly plane: (lab: Lab, backend: string) => Promise<ControlPlane>;
  /** hostPort and the agent restart. */
  readonly full: boolean;
  /** 50 ADDs at once. */
  readonly burst: boolean;
}

const suites: readonly Suite[] = [
  { name: 'etcd mode, vxlan', backend: 'vxlan', plane: etcdPlane, full: true, burst: true },
  { name: 'Kubernetes mode, vxlan', backend: 'vxlan', plane: kubePlane, full: true, burst: false },
  { name: 'Kubernetes mode, host-gw', backend: 'host-gw', plane: kubePlane, full: false, burst: false },
];

let exe: string;
const buildDir = mkdtempSync(join(tmpdir(), 'tartan-cni-build-'));
before(async () => {
  if (!skip) exe = await buildCniExecutable(buildDir);
});
after(() => rmSync(buildDir, { recursive: true, force: true }));

for (const s of suites) {
  describe(`pods through the installed plugin executable and kube-flannel's conflist (${s.name}, three hosts)`, { skip }, () => {
    let lab: Lab;
    let plane: ControlPlane;
    let nodes: CniNodes;
    const dir = mkdtempSync(join(tmpdir(), 'tartan-cni-pods-'));
    const subnets = new Map<LabHost, HostSubnet>();

    const inSubnet = (h: LabHost, ip: string): boolean => {
      const p = parseIp(ip);
      return containsIp(subnets.get(h)!.cidr, p.family, p.addr);
    };
    const added = async (h: LabHost, id: string, capabilityArgs?: Record<string, unknown>): Promise<CniLabPod> => {
      const pod = await nodes.newPod(h, id, capabilityArgs);
      const out = await nodes.add(pod);
      assert.equal(out.ok, true, `${id}: ${JSON.stringify(out.error)}`);
      assert.ok(inSubnet(h, pod.ip), `${pod.ip} is in ${subnets.get(h)!.text}`);
      return pod;
    };
    const pod = (id: string): CniLabPod => nodes.pods.get(id)!;

    before(async () => {
      lab = await createLab({ hosts: 3, podsPerHost: 0 });
      plane = await s.plane(lab, s.backend);
      nodes = await installCniNodes({ labId: lab.id, hosts: lab.hosts, dir, exe, subnetFile: (h) => subnetFileOf(h, plane.dir) });
    });
    after(async () => {
      await plane?.destroy();
      await nodes?.destroy();
      await lab?.destroy();
      rmSync(dir, { recursive: true, force: true });
    });

    test('the bin dir holds the one executable as flannel and tartan (not a script: no Node needed), beside the delegates', () => {
      assert.deepEqual(readdirSync(nodes.bin).sort(), ['bridge', 'flannel', 'host-local', 'loopback', 'portmap', 'tartan']);
      const flannel = readFileSync(join(nodes.bin, 'flannel'));
      assert.equal(flannel.subarray(0, 4).toString('latin1'), '\x7fELF');
      assert.ok(flannel.equals(readFileSync(join(nodes.bin, 'tartan'))));
      assert.equal(statSync(join(nodes.bin, 'flannel')).mode & 0o777, 0o755);
    });

    test('ADD before the agent wrote subnet.env: flannel fails with CNI error JSON naming the file, nothing held; after the agent, the same ADD works', async () => {
      const h = lab.hosts[0]!;
      const early = await nodes.newPod(h, 'early');
      const out = await nodes.add(early);
      assert.equal(out.ok, false);
      assert.equal(out.failedPlugin, 'flannel');
      assert.equal(out.error?.['code'], 11, JSON.stringify(out.error));
      assert.match(String(out.error?.['msg']), new RegExp(`^${subnetFileOf(h, plane.dir).replaceAll('.', '\\.')} does not exist: .*has not written it yet`));
      assert.deepEqual(nodes.addressesHeld(h), []);
      assert.deepEqual(nodes.savedConfigs(h), []);

      for (const host of lab.hosts) plane.startAgent(host);
      for (const host of lab.hosts) {
        subnets.set(host, await waitSubnetEnv(host, plane.dir));
        const planned = plane.plannedSubnet(host);
        if (planned) assert.equal(formatCidr(subnets.get(host)!.cidr), planned, `${host.ns}: subnet.env holds the Node's podCIDR`);
      }
      const later = await nodes.add(early);
      assert.equal(later.ok, true, JSON.stringify(later.error));
      assert.ok(inSubnet(h, early.ip), `${early.ip} is in ${subnets.get(h)!.text}`);
      assert.deepEqual(nodes.addressesHeld(h), [early.ip]);
    });

    test('a pod on each host: every pod reaches every other across the hosts', async () => {
      const mine: CniLabPod[] = [];
      for (const h of lab.hosts) mine.push(await added(h, `p${h.index}`));
      for (const from of mine) {
        for (const to of mine.filter((p) => p !== from)) {
          await waitFor(`${from.ip} answers ${to.ip}`, async () => (await ping(from.ns, to.ip, { count: 1, timeout: 1 })).received === 1, 20_000);
        }
      }
      assert.deepEqual(failures(await pingMatrix(lab, { pods: mine, count: 3, interval: 0.1 })), []);
    });

    test('hostPort (portmap, runtimeConfig.portMappings): another host reaches the pod at <hostIP>:<hostPort>; gone after DEL', { skip: s.full ? false : NOT_BACKEND }, async () => {
      const [h1, h2] = [lab.hosts[0]!, lab.hosts[1]!];
      const web = await added(h1, 'web', { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }] });
      const server = await startPeerAddressServer(web.ns, web.ip, 80);
      try {
        const seen = await waitFor(`${h2.ns} reaches ${h1.ip}:8080`, () => peerAddressSeenBy(h2.ns, h1.ip, 8080), 20_000);
        assert.equal(seen, h2.ip, 'the pod sees the other host itself (DNAT, no SNAT for traffic from outside the host)');
        assert.equal(await peerAddressSeenBy(h2.ns, h1.ip, 8081), undefined, 'no other port is forwarded');
        const gone = await nodes.del(web);
        assert.equal(gone.ok, true, JSON.stringify(gone.error));
        assert.equal(await peerAddressSeenBy(h2.ns, h1.ip, 8080), undefined, 'portmap DEL removed the mapping');
      } finally {
        await server.stop();
      }
    });

    test(`${PARALLEL} ADDs at once on one host: ${PARALLEL} distinct addresses in its subnet; ${PARALLEL} DELs at once give them back`, { skip: s.burst ? false : ETCD_ONLY }, async () => {
      const h = lab.hosts[1]!;
      const before = nodes.addressesHeld(h);
      const batch = await Promise.all(Array.from({ length: PARALLEL }, (_, i) => nodes.newPod(h, `burst${i}`)));
      const outs = await Promise.all(batch.map((p) => nodes.add(p)));
      assert.deepEqual(outs.filter((o) => !o.ok).map((o) => o.error), []);
      const ips = batch.map((p) => p.ip);
      assert.equal(new Set(ips).size, PARALLEL, `distinct: ${ips.join(' ')}`);
      assert.deepEqual(ips.filter((ip) => !inSubnet(h, ip)), []);
      assert.deepEqual(nodes.addressesHeld(h), [...before, ...ips].sort());
      const dels = await Promise.all(batch.map((p) => nodes.del(p)));
      assert.deepEqual(dels.filter((o) => !o.ok).map((o) => o.error), []);
      assert.deepEqual(nodes.addressesHeld(h), before);
    });

    test('the agent restarting (SIGTERM, start again) disturbs no running pod: 0 pings lost at 20/s each way', { skip: s.full ? false : NOT_BACKEND }, async () => {
      const [h1, a, b] = [lab.hosts[0]!, pod('p1'), pod('p2')];
      const log = join(plane.dir, `${h1.ns}.log`);
      const wrote = (): number => readFileSync(log, 'utf8').split('\n').filter((l) => l.includes('"wrote subnet file"')).length;
      const envBefore = readFileSync(subnetFileOf(h1, plane.dir), 'utf8');
      const streams = [pingSequence(a.ns, b.ip, { interval: 0.05, maxSeconds: 60 }), pingSequence(b.ns, a.ip, { interval: 0.05, maxSeconds: 60 })];
      await new Promise((r) => setTimeout(r, 1000));
      const writesBefore = wrote();
      assert.equal(await plane.stopAgent(h1), 0, 'the agent drains on SIGTERM');
      plane.startAgent(h1);
      await waitFor('the restarted agent wrote subnet.env again', () => wrote() > writesBefore, 30_000);
      await new Promise((r) => setTimeout(r, 2000));
      const results = await Promise.all(streams.map((st) => st.stop()));
      for (const r of results) {
        assert.deepEqual(r.missing, [], r.output.slice(-500));
        assert.ok(r.answered >= 40, `${r.answered} replies: the stream ran across the restart`);
      }
      assert.equal(readFileSync(subnetFileOf(h1, plane.dir), 'utf8'), envBefore, 'same lease, same subnet.env');
      const later = await added(h1, 'after-restart');
      assert.equal((await ping(later.ns, b.ip, { count: 2, interval: 0.2 })).received, 2, 'a pod added after the restart reaches the other host');
    });

    test('DEL of every pod gives every address back (host-local stores empty), leaves no saved config and no portmap chain; DEL again succeeds', async () => {
      assert.ok(nodes.pods.size >= 4, `${nodes.pods.size} pods left to delete`);
      for (const p of [...nodes.pods.values()]) {
        const out = await nodes.del(p);
        assert.equal(out.ok, true, `${p.cni.id}: ${JSON.stringify(out.error)}`);
        assert.equal((await nodes.runtime(p.node).del(p.cni)).ok, true, `${p.cni.id}: second DEL`);
      }
      for (const h of lab.hosts) {
        assert.deepEqual(nodes.addressesHeld(h), [], `host-local's store on ${h.ns} is empty`);
        assert.deepEqual(nodes.savedConfigs(h), [], `no saved delegate config on ${h.ns}`);
        const nat = await nsExec(h.ns, 'iptables', ['-t', 'nat', '-S']);
        assert.doesNotMatch(nat.stdout, /-A CNI-HOSTPORT-DNAT .*CNI-DN-/, `no hostPort rule left on ${h.ns}`);
      }
    });
  });
}
