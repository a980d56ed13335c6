// Pods on three vxlan hosts through what a node really runs: the plugin's single executable
// (built here, npm run build:cni's code) put into a CNI bin dir by `tartan install-cni`
// (as flannel and tartan, beside Debian's bridge, host-local, loopback and portmap), and
// kube-flannel's conflist (flannel, then portmap) run as a runtime runs a conflist
// (test/lab/cni-runtime.ts). Real `tartan agent` processes in etcd mode write subnet.env
// and program the hosts. Pods reach each other across hosts; a hostPort reaches a pod from
// another host; 50 ADDs at once get 50 addresses; an ADD before subnet.env fails cleanly
// and works after; an agent restart loses no ping; DEL gives every address back.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCniExecutable } from '../../scripts/build-cni.ts';
import { parseConflist } from '../../src/cni/conflist.ts';
import { containsIp, parseIp } from '../../src/net/cidr.ts';
import { startEtcd, type EtcdServer } from '../support/etcd.ts';
import { stopChild } from '../support/process.ts';
import { waitFor } from '../support/wait.ts';
import { type HostSubnet, MAIN, startLabAgent, subnetFileOf, waitSubnetEnv } from '../lab/agents.ts';
import { type CniOutcome, type CniPod, type CniRuntime, cniRuntime, podIp } from '../lab/cni-runtime.ts';
import { type Lab, type LabHost, createLab } from '../lab/lab.ts';
import { createNamespace, deleteNamespace, nsExec } from '../lab/netns.ts';
import { failures, ping, pingMatrix, pingSequence } from '../lab/ping.ts';
import { peerAddressSeenBy, startPeerAddressServer } from '../lab/tcp.ts';

const root = process.getuid?.() === 0;
const plugins = existsSync('/usr/lib/cni/bridge') && existsSync('/usr/lib/cni/portmap');
const skip = !root ? 'needs root for network namespaces' : !plugins ? 'needs containernetworking-plugins (scripts/install-deps.sh)' : false;
const PARALLEL = 50;

interface Pod { readonly host: LabHost; readonly ns: string; readonly cni: CniPod; ip: string }

describe('pods through the installed plugin executable and kube-flannel\'s conflist (three vxlan hosts)', { skip }, () => {
  let lab: Lab;
  let etcd: EtcdServer;
  const dir = mkdtempSync(join(tmpdir(), 'tartan-cni-pods-'));
  const bin = join(dir, 'opt-cni-bin');
  const agents = new Map<LabHost, ChildProcess>();
  const subnets = new Map<LabHost, HostSubnet>();
  const runtimes = new Map<LabHost, CniRuntime>();
  const pods = new Map<string, Pod>();
  const namespaces: string[] = [];

  const hostDir = (h: LabHost): string => join(dir, `h${h.index}`);
  /** kube-flannel's cni-conf.json, with this host's subnet.env and state dirs (every lab host shares one file system). */
  const kubeFlannelConf = (h: LabHost): string => JSON.stringify({
    name: 'cbr0', cniVersion: '0.3.1',
    plugins: [
      {
        type: 'flannel', delegate: { hairpinMode: true, isDefaultGateway: true },
        subnetFile: subnetFileOf(h, dir), dataDir: join(hostDir(h), 'flannel'), ipam: { dataDir: join(hostDir(h), 'ipam') },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  }, null, 2);
  const addressesHeld = (h: LabHost): string[] => {
    const store = join(hostDir(h), 'ipam', 'cbr0');
    return existsSync(store) ? readdirSync(store).filter((f) => /^[\d.]+$/.test(f)).sort() : [];
  };
  const savedConfigs = (h: LabHost): string[] => {
    const d = join(hostDir(h), 'flannel');
    return existsSync(d) ? readdirSync(d) : [];
  };
  const newPod = async (h: LabHost, id: string, capabilityArgs?: Record<string, unknown>): Promise<Pod> => {
    const ns = `tt-${lab.id}-h${h.index}-${id}`;
    await createNamespace(ns);
    namespaces.push(ns);
    const pod: Pod = { host: h, ns, cni: { id, netns: `/var/run/netns/${ns}`, capabilityArgs }, ip: '' };
    pods.set(id, pod);
    return pod;
  };
  const add = async (pod: Pod): Promise<CniOutcome> => {
    const out = await runtimes.get(pod.host)!.add(pod.cni);
    pod.ip = podIp(out.result) ?? '';
    return out;
  };
  const del = async (id: string): Promise<CniOutcome> => {
    const pod = pods.get(id)!;
    const out = await runtimes.get(pod.host)!.del(pod.cni);
    if (out.ok) pods.delete(id);
    return out;
  };
  const inSubnet = (h: LabHost, ip: string): boolean => {
    const p = parseIp(ip);
    return containsIp(subnets.get(h)!.cidr, p.family, p.addr);
  };
  const startAgent = (h: LabHost): void => {
    agents.set(h, startLabAgent(h, { dir, etcdEndpoint: etcd.endpoint, netConfigPath: join(dir, 'net-conf.json') }));
  };

  before(async () => {
    const exe = await buildCniExecutable(join(dir, 'build'));
    lab = await createLab({ hosts: 3, podsPerHost: 0 });
    for (const h of lab.hosts) {
      mkdirSync(hostDir(h));
      writeFileSync(join(hostDir(h), 'cni-conf.json'), kubeFlannelConf(h));
      // What the DaemonSet's init container runs on each node (one bin dir: the runs after the first replace it).
      execFileSync(process.execPath, [MAIN, 'install-cni', '--cni-bin-dir', bin, '--cni-conf-dir', join(hostDir(h), 'net.d'),
        '--cni-conf', join(hostDir(h), 'cni-conf.json'), '--cni-plugin', exe], { stdio: ['ignore', 'ignore', 'inherit'] });
      const installed = join(hostDir(h), 'net.d', '10-flannel.conflist');
      runtimes.set(h, cniRuntime({ hostNs: h.ns, binDir: bin, conflist: parseConflist(installed, readFileSync(installed, 'utf8')) }));
    }
    for (const p of ['bridge', 'host-local', 'loopback', 'portmap']) symlinkSync(`/usr/lib/cni/${p}`, join(bin, p));
    const h1 = lab.hosts[0]!;
    etcd = await startEtcd({ netns: h1.ns, host: h1.ip });
    writeFileSync(join(dir, 'net-conf.json'), JSON.stringify({ Network: lab.network, Backend: { Type: 'vxlan' } }));
  });
  after(async () => {
    for (const a of agents.values()) await stopChild(a);
    await etcd?.destroy();
    for (const ns of namespaces) await deleteNamespace(ns).catch(() => undefined);
    await lab?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the bin dir holds the one executable as flannel and tartan (not a script: no Node needed), beside the delegates', () => {
    assert.deepEqual(readdirSync(bin).sort(), ['bridge', 'flannel', 'host-local', 'loopback', 'portmap', 'tartan']);
    const flannel = readFileSync(join(bin, 'flannel'));
    assert.equal(flannel.subarray(0, 4).toString('latin1'), '\x7fELF');
    assert.ok(flannel.equals(readFileSync(join(bin, 'tartan'))));
    assert.equal(statSync(join(bin, 'flannel')).mode & 0o777, 0o755);
  });

  test('ADD before the agent wrote subnet.env: flannel fails with CNI error JSON naming the file, nothing held; after the agent, the same ADD works', async () => {
    const h = lab.hosts[0]!;
    const pod = await newPod(h, 'early');
    const early = await add(pod);
    assert.equal(early.ok, false);
    assert.equal(early.failedPlugin, 'flannel');
    assert.equal(early.error?.['code'], 11, JSON.stringify(early.error));
    assert.match(String(early.error?.['msg']), new RegExp(`^${subnetFileOf(h, dir).replaceAll('.', '\\.')} does not exist: .*has not written it yet`));
    assert.deepEqual(addressesHeld(h), []);
    assert.deepEqual(savedConfigs(h), []);

    for (const host of lab.hosts) startAgent(host);
    for (const host of lab.hosts) subnets.set(host, await waitSubnetEnv(host, dir));
    const later = await add(pod);
    assert.equal(later.ok, true, JSON.stringify(later.error));
    assert.ok(inSubnet(h, pod.ip), `${pod.ip} is in ${subnets.get(h)!.text}`);
    assert.deepEqual(addressesHeld(h), [pod.ip]);
  });

  test('a pod on each host: every pod reaches every other across the hosts', async () => {
    const mine = [];
    for (const h of lab.hosts) {
      const pod = await newPod(h, `p${h.index}`);
      const out = await add(pod);
      assert.equal(out.ok, true, JSON.stringify(out.error));
      assert.ok(inSubnet(h, pod.ip), `${pod.ip} is in ${subnets.get(h)!.text}`);
      mine.push({ ns: pod.ns, host: h.index, ip: pod.ip });
    }
    for (const from of mine) {
      for (const to of mine) {
        if (from === to) continue;
        await waitFor(`${from.ip} answers ${to.ip}`, async () => (await ping(from.ns, to.ip, { count: 1, timeout: 1 })).received === 1, 20_000);
      }
    }
    assert.deepEqual(failures(await pingMatrix(lab, { pods: mine, count: 3, interval: 0.1 })), []);
  });

  test('hostPort (portmap, runtimeConfig.portMappings): another host reaches the pod at <hostIP>:<hostPort>; gone after DEL', async () => {
    const [h1, h2] = [lab.hosts[0]!, lab.hosts[1]!];
    const pod = await newPod(h1, 'web', { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }] });
    const out = await add(pod);
    assert.equal(out.ok, true, JSON.stringify(out.error));
    const server = await startPeerAddressServer(pod.ns, pod.ip, 80);
    try {
      const seen = await waitFor(`${h2.ns} reaches ${h1.ip}:8080`, () => peerAddressSeenBy(h2.ns, h1.ip, 8080), 20_000);
      assert.equal(seen, h2.ip, 'the pod sees the other host itself (DNAT, no SNAT for traffic from outside the host)');
      assert.equal(await peerAddressSeenBy(h2.ns, h1.ip, 8081), undefined, 'no other port is forwarded');
      const gone = await del('web');
      assert.equal(gone.ok, true, JSON.stringify(gone.error));
      assert.equal(await peerAddressSeenBy(h2.ns, h1.ip, 8080), undefined, 'portmap DEL removed the mapping');
    } finally {
      await server.stop();
    }
  });

  test(`${PARALLEL} ADDs at once on one host: ${PARALLEL} distinct addresses in its subnet; ${PARALLEL} DELs at once give them back`, async () => {
    const h = lab.hosts[1]!;
    const before = addressesHeld(h);
    const batch = await Promise.all(Array.from({ length: PARALLEL }, (_, i) => newPod(h, `burst${i}`)));
    const outs = await Promise.all(batch.map((p) => add(p)));
    assert.deepEqual(outs.filter((o) => !o.ok).map((o) => o.error), []);
    const ips = batch.map((p) => p.ip);
    assert.equal(new Set(ips).size, PARALLEL, `distinct: ${ips.join(' ')}`);
    assert.deepEqual(ips.filter((ip) => !inSubnet(h, ip)), []);
    assert.deepEqual(addressesHeld(h), [...before, ...ips].sort());
    const dels = await Promise.all(batch.map((p) => del(p.cni.id)));
    assert.deepEqual(dels.filter((o) => !o.ok).map((o) => o.error), []);
    assert.deepEqual(addressesHeld(h), before);
  });

  test('the agent restarting (SIGTERM, start again) disturbs no running pod: 0 pings lost at 20/s each way', async () => {
    const [h1, a, b] = [lab.hosts[0]!, pods.get('p1')!, pods.get('p2')!];
    const log = join(dir, `${h1.ns}.log`);
    const wrote = (): number => readFileSync(log, 'utf8').split('\n').filter((l) => l.includes('"wrote subnet file"')).length;
    const envBefore = readFileSync(subnetFileOf(h1, dir), 'utf8');
    const streams = [pingSequence(a.ns, b.ip, { interval: 0.05, maxSeconds: 60 }), pingSequence(b.ns, a.ip, { interval: 0.05, maxSeconds: 60 })];
    await new Promise((r) => setTimeout(r, 1000));
    const writesBefore = wrote();
    assert.equal(await stopChild(agents.get(h1)!), 0, 'the agent drains on SIGTERM');
    startAgent(h1);
    await waitFor('the restarted agent wrote subnet.env again', () => wrote() > writesBefore, 30_000);
    await new Promise((r) => setTimeout(r, 2000));
    const results = await Promise.all(streams.map((s) => s.stop()));
    for (const r of results) {
      assert.deepEqual(r.missing, [], r.output.slice(-500));
      assert.ok(r.answered >= 40, `${r.answered} replies: the stream ran across the restart`);
    }
    assert.equal(readFileSync(subnetFileOf(h1, dir), 'utf8'), envBefore, 'same lease, same subnet.env');
    const after = await newPod(h1, 'after-restart');
    const out = await add(after);
    assert.equal(out.ok, true, JSON.stringify(out.error));
    assert.equal((await ping(after.ns, b.ip, { count: 2, interval: 0.2 })).received, 2, 'a pod added after the restart reaches the other host');
  });

  test('DEL of every pod gives every address back (host-local stores empty), leaves no saved config and no portmap chain; DEL again succeeds', async () => {
    const ids = [...pods.keys()];
    for (const id of ids) {
      const pod = pods.get(id)!;
      const out = await del(id);
      assert.equal(out.ok, true, `${id}: ${JSON.stringify(out.error)}`);
      assert.equal((await runtimes.get(pod.host)!.del(pod.cni)).ok, true, `${id}: second DEL`);
    }
    for (const h of lab.hosts) {
      assert.deepEqual(addressesHeld(h), [], `host-local's store on ${h.ns} is empty`);
      assert.deepEqual(savedConfigs(h), [], `no saved delegate config on ${h.ns}`);
      const nat = await nsExec(h.ns, 'iptables', ['-t', 'nat', '-S']);
      assert.doesNotMatch(nat.stdout, /-A CNI-HOSTPORT-DNAT .*CNI-DN-/, `no hostPort rule left on ${h.ns}`);
    }
  });
});
