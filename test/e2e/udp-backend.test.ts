// The udp backend on real `tartan agent` processes in lab namespaces: three udp
// hosts, pods on each; a fourth lab host runs no agent but a byte-level flannel
// udp peer (test/lab/udp-peer-child.ts) with a hand-written lease, standing in
// for a flanneld host. Resync is far away: what happens came from lease events.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { formatCidr } from '../../src/net/cidr.ts';
import { loadTunAddon } from '../../src/kernel/tun/addon.ts';
import { startEtcd, type EtcdServer } from '../support/etcd.ts';
import { collectOutput, spawnTracked, stopChild } from '../support/process.ts';
import { type HostSubnet, MAIN, startLabAgent, subnetFileOf, waitSubnetEnv } from '../lab/agents.ts';
import { type Lab, type LabPod, createLab } from '../lab/lab.ts';
import { nsExec } from '../lab/netns.ts';
import { failures, ping, pingMatrix } from '../lab/ping.ts';
import { iperf } from '../lab/iperf.ts';
import { type UdpPeer, startUdpPeer } from '../lab/udp-peer.ts';

const root = process.getuid?.() === 0;
const addon = 'missing' in loadTunAddon() ? 'the TUN addon is not built (npm ci without a compiler)' : false;
const RESYNC = '120s';
const FLANNEL_SUBNET = '10.42.77.0/24';
const FLANNEL_POD = '10.42.77.5';
const METRICS_PORT = '9285';

/** The error code of a TCP connect from `ns` to ip:80 within 2 s ('timeout' when nothing answered). */
async function connectError(ns: string, ip: string): Promise<string> {
  const script = `const s=require('node:net').connect(80,'${ip}');s.setTimeout(2000,()=>{console.log('timeout');process.exit()});` +
    `s.on('error',(e)=>{console.log(e.code);process.exit()});s.on('connect',()=>{console.log('connected');process.exit()})`;
  return (await nsExec(ns, process.execPath, ['-e', script])).stdout.trim();
}

describe('udp backend: three tartan hosts and a flannel-format peer', { skip: !root ? 'needs root for network namespaces' : addon }, () => {
  let lab: Lab;
  let etcd: EtcdServer;
  let peer: UdpPeer;
  const dir = mkdtempSync(join(tmpdir(), 'tartan-udp-'));
  const agents = new Map<string, ChildProcess>();
  const subnets = new Map<string, HostSubnet>();
  const pods: LabPod[] = [];
  let config: string;
  const etcdctl = (args: string[]): ReturnType<typeof nsExec> => nsExec(lab.hosts[0]!.ns, 'etcdctl', ['--endpoints', etcd.endpoint, ...args]);

  const start = async (i: number): Promise<HostSubnet> => {
    const h = lab.hosts[i]!;
    agents.set(h.ns, startLabAgent(h, { dir, etcdEndpoint: etcd.endpoint, netConfigPath: config, extraArgs: ['--resync-period', RESYNC, '--healthz-port', METRICS_PORT] }));
    const s = await waitSubnetEnv(h, dir);
    subnets.set(h.ns, s);
    return s;
  };

  before(async () => {
    lab = await createLab({ hosts: 4, podsPerHost: 0 });
    const h1 = lab.hosts[0]!;
    etcd = await startEtcd({ netns: h1.ns, host: h1.ip });
    config = join(dir, 'net-conf.json');
    writeFileSync(config, JSON.stringify({ Network: lab.network, Backend: { Type: 'udp', Port: 8285 } }));
    for (const i of [0, 1, 2]) {
      const s = await start(i);
      pods.push(...(await lab.addPods(lab.hosts[i]!, { subnet: s.cidr, count: 1, mtu: s.mtu })));
    }
    peer = await startUdpPeer(lab.hosts[3]!.ns, lab.hosts[3]!.ip);
  });
  after(async () => {
    for (const a of agents.values()) await stopChild(a);
    await peer?.stop();
    await etcd?.destroy();
    await lab?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  test('set up as flannel: lease without BackendType/BackendData, flannel0 <subnet>/32, one route, MTU − 28', async () => {
    const h = lab.hosts[0]!;
    const s = subnets.get(h.ns)!;
    assert.equal(s.mtu, 1500 - 28);
    const key = formatCidr(s.cidr).replace('/', '-');
    const value = JSON.parse((await etcdctl(['get', '--print-value-only', `/coreos.com/network/subnets/${key}`])).stdout) as Record<string, unknown>;
    assert.equal(value.PublicIP, h.ip);
    assert.deepEqual(Object.keys(value), ['PublicIP', 'PublicIPv6'], `flannel's udp lease form (BackendType and BackendData omitted), got ${JSON.stringify(value)}`);
    const addrs = (await nsExec(h.ns, 'ip', ['-4', '-o', 'addr', 'show', 'dev', 'flannel0'])).stdout;
    assert.match(addrs, new RegExp(`inet ${formatCidr(s.cidr).replace(/\/24$/, '/32')} `));
    const link = (await nsExec(h.ns, 'ip', ['-o', 'link', 'show', 'dev', 'flannel0'])).stdout;
    assert.match(link, /mtu 1472 /);
    const routes = (await nsExec(h.ns, 'ip', ['-4', 'route', 'show', 'dev', 'flannel0'])).stdout.trim().split('\n');
    assert.deepEqual(routes.filter((r) => !r.includes('proto kernel')).map((r) => r.split(' ')[0]), [lab.network], routes.join('\n'));
    assert.match(readFileSync(subnetFileOf(h, dir), 'utf8'), /FLANNEL_MTU=1472/);
  });

  test('every pod pings every pod', async () => {
    const first = await pingMatrix(lab, { pods, count: 3 });
    // After a first reply ping waits only two RTTs for the rest: on this shared 2-core box one
    // slow reply reads as a loss, so a failed pair is asked again, slower, before it counts.
    const again = first.filter((c) => c.result.received !== c.result.transmitted);
    for (const c of again) Object.assign(c, { result: await ping(c.from.ns, c.to.ip, { count: 3, interval: 0.2, timeout: 2 }) });
    assert.deepEqual(failures(first), []);
  });

  test('TCP across (iperf3, 3 s)', async () => {
    const r = await iperf({ serverNs: pods[1]!.ns, serverIp: pods[1]!.ip, clientNs: pods[0]!.ns, seconds: 3 });
    assert.ok(r.bitsPerSecond > 20e6, `iperf3 through udp: ${(r.bitsPerSecond / 1e6).toFixed(0)} Mbit/s`);
  });

  test('MTU-sized packets pass; larger are fragmented by the kernel (DF: refused), never truncated', async () => {
    const mtu = subnets.get(lab.hosts[0]!.ns)!.mtu;
    const [from, to] = [pods[0]!, pods[2]!];
    assert.equal((await ping(from.ns, to.ip, { count: 2, size: mtu - 28 })).received, 2, 'a full-MTU packet with DF');
    const tooBig = await nsExec(from.ns, 'ping', ['-n', '-c', '1', '-W', '1', '-M', 'do', '-s', String(mtu - 27), to.ip]);
    assert.match(tooBig.stdout + tooBig.stderr, /message too long, mtu=1472/, 'the kernel refuses a DF packet over the MTU');
    const big = await nsExec(from.ns, 'ping', ['-n', '-c', '2', '-i', '0.05', '-W', '2', '-s', '4000', to.ip]);
    assert.match(big.stdout, /4008 bytes from/, 'a 4,008-byte echo comes back whole (fragmented and reassembled)');
  });

  test('TTL: decremented on send and on receive, dropped at 0 without an answer', async () => {
    const [from, to] = [pods[0]!, pods[1]!];
    // pod → host A forwards (−1) → tartan A sends (−1) → tartan B receives (−1) → host B forwards (−1) → pod.
    for (const ttl of [2, 3]) {
      const r = await nsExec(from.ns, 'ping', ['-n', '-c', '1', '-W', '1', '-t', String(ttl), to.ip]);
      assert.match(r.stdout, /0 received/, `TTL ${ttl}: dropped by tartan`);
      assert.doesNotMatch(r.stdout, /exceeded/i, `TTL ${ttl}: dropped silently, as flannel does`);
    }
    const four = await nsExec(from.ns, 'ping', ['-n', '-c', '1', '-W', '1', '-t', '4', to.ip]);
    assert.match(four.stdout, /Time to live exceeded/, 'TTL 4 dies in host B\'s kernel: tartan took exactly two');
    assert.equal((await ping(from.ns, to.ip, { count: 1 })).received, 1);
  });

  test('unknown subnet in the Network → ICMP net unreachable seen by the sender (not for ICMP, as flannel)', async () => {
    const tcp = await connectError(pods[0]!.ns, '10.42.200.1');
    assert.equal(tcp, 'ENETUNREACH', 'a TCP connect fails at once: the SYN got ICMP net unreachable from flannel0');
    const icmp = await nsExec(pods[0]!.ns, 'ping', ['-n', '-c', '1', '-W', '1', '10.42.200.1']);
    assert.doesNotMatch(icmp.stdout, /Unreachable/, 'no ICMP about ICMP');
  });

  test('wire compatibility with a flannel host, both directions; its lease added and removed takes effect at once', async () => {
    const h1 = lab.hosts[0]!;
    const h4 = lab.hosts[3]!;
    const key = `/coreos.com/network/subnets/${FLANNEL_SUBNET.replace('/', '-')}`;
    // Exactly what flanneld writes for a udp host.
    const put = await etcdctl(['put', key, JSON.stringify({ PublicIP: h4.ip, PublicIPv6: null })]);
    assert.equal(put.stdout.trim(), 'OK', put.stderr);
    const added = Date.now();
    let reached = false;
    while (!reached && Date.now() - added < 5000) reached = (await ping(pods[0]!.ns, FLANNEL_POD, { count: 1, timeout: 1 })).received === 1;
    assert.ok(reached, 'a pod reaches the flannel host\'s pod within 5 s of its lease (no resync)');
    // tartan → flannel: a bare IPv4 packet in a datagram from <eth0>:8285, TTL taken once by the host, once by tartan.
    const out = peer.datagrams().find((d) => d.from === h1.ip && d.icmpType === 8 && d.dst === FLANNEL_POD);
    assert.ok(out, 'the flannel host got the echo request');
    assert.equal(out.port, 8285);
    assert.equal(out.src, pods[0]!.ip);
    assert.equal(out.ttl, 62);
    assert.ok(out.headerChecksumOk, 'the patched header checksum verifies');
    assert.equal(out.length, Number.parseInt(out.hex.slice(4, 8), 16), 'the datagram is exactly the IPv4 packet');
    // flannel → tartan: a raw packet to 192.168.100.N:8285 reaches the pod, whose reply comes back.
    for (const target of [pods[1]!, pods[2]!]) {
      const host = lab.hosts[target.host - 1]!;
      peer.ping({ src: FLANNEL_POD, dst: target.ip, host: host.ip });
      const reply = await peer.waitFor((d) => d.from === host.ip && d.icmpType === 0 && d.src === target.ip, 3000);
      assert.ok(reply, `${target.ip} answered a raw flannel-format echo request`);
      assert.equal(reply.ttl, 62);
    }
    // Garbage datagrams are counted and dropped; the agent carries on.
    await nsExec(h4.ns, process.execPath, ['-e', `const s=require('node:dgram').createSocket('udp4');s.send(Buffer.from('not ip'),8285,'${h1.ip}',()=>s.send(Buffer.alloc(40,0x60),8285,'${h1.ip}',()=>s.close()))`]);
    assert.equal((await ping(pods[0]!.ns, FLANNEL_POD, { count: 1 })).received, 1);
    const metrics = (await nsExec(h1.ns, 'curl', ['-s', '--max-time', '5', `http://127.0.0.1:${METRICS_PORT}/metrics`])).stdout;
    assert.match(metrics, /tartan_udp_dropped_total\{reason="bad-datagram"\} 2\n/, 'two bad datagrams counted');
    assert.match(metrics, /tartan_udp_packets_total\{direction="tx"\} [1-9]/);
    // Removed: the next packet gets net unreachable.
    await etcdctl(['del', key]);
    const removed = Date.now();
    let unreachable = false;
    while (!unreachable && Date.now() - removed < 5000) unreachable = (await connectError(pods[0]!.ns, FLANNEL_POD)) === 'ENETUNREACH';
    assert.ok(unreachable, 'the flannel host\'s subnet is unknown within 5 s of its lease deleted');
  });

  test('an agent restart: flannel0 goes with the process, traffic resumes, the subnet is kept', async () => {
    const h2 = lab.hosts[1]!;
    const before = subnets.get(h2.ns)!;
    assert.equal(await stopChild(agents.get(h2.ns)!), 0);
    assert.equal((await nsExec(h2.ns, 'ip', ['link', 'show', 'flannel0'])).code !== 0, true, 'flannel0 closed at shutdown');
    // subnet.env stays (as flanneld leaves it); the new agent rewrites it.
    const file = subnetFileOf(h2, dir);
    const written = statSync(file).mtimeMs;
    await start(1);
    const deadline = Date.now() + 30_000;
    while (statSync(file).mtimeMs === written && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.notEqual(statSync(file).mtimeMs, written, 'the restarted agent wrote subnet.env');
    assert.equal(formatCidr((await waitSubnetEnv(h2, dir)).cidr), formatCidr(before.cidr), 'the same subnet');
    const started = Date.now();
    let back = false;
    while (!back && Date.now() - started < 10_000) back = (await ping(pods[0]!.ns, pods[1]!.ip, { count: 1, timeout: 1 })).received === 1;
    assert.ok(back, 'pod traffic resumes after the restart');
  });
});

describe('udp backend without the TUN addon (npm ci on a machine without a compiler)', { skip: root ? false : 'needs root for network namespaces' }, () => {
  test('the agent exits 2 naming Backend.Type and what is missing, before touching the kernel', async () => {
    const lab = await createLab({ hosts: 1, podsPerHost: 0 });
    const dir = mkdtempSync(join(tmpdir(), 'tartan-udp-noaddon-'));
    const h = lab.hosts[0]!;
    const etcd = await startEtcd({ netns: h.ns, host: h.ip });
    try {
      const config = join(dir, 'net-conf.json');
      writeFileSync(config, JSON.stringify({ Network: lab.network, Backend: { Type: 'udp' } }));
      const child = spawnTracked('ip', ['netns', 'exec', h.ns, 'env', `TARTAN_TUN_ADDON=${join(dir, 'absent.node')}`, process.execPath, MAIN, 'agent',
        '--etcd-endpoints', etcd.endpoint, '--iface', 'eth0', '--net-config-path', config, '--subnet-file', join(dir, 'subnet.env')]);
      const out = collectOutput(child);
      assert.equal(await new Promise((r) => child.once('exit', r)), 2, out.text());
      assert.match(out.text(), /Backend\.Type: needs tartan's TUN addon, which was not built.*absent\.node.*npm rebuild/);
      assert.notEqual((await nsExec(h.ns, 'ip', ['link', 'show', 'flannel0'])).code, 0, 'no flannel0');
    } finally {
      await etcd.destroy();
      await lab.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
