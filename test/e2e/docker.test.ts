// Docker with the real daemon on tartan hosts, its stock firewall as on any Docker
// host: h1 and h2 each run a vxlan `tartan agent` (--ip-masq) and Debian's dockerd
// started with `tartan docker-opts`' options; forwarding is off until dockerd starts,
// so dockerd sets FORWARD's policy to DROP. h3 runs an agent and a hand-made pod, no
// Docker. tartan's iptables forward rules (--iptables-forward-rules, default on) are
// what lets cross-host traffic into docker0: with them off the same pings fail, even
// though tartan's nftables table (ip-masq) has its own forward accepts — an accept in
// one base chain does not stop another from dropping. A second cluster checks the
// same on host-gw.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../support/wait.ts';
import { type DockerCluster, startDockerCluster } from '../lab/docker-cluster.ts';
import { type LabContainer, containerPing, filterTable } from '../lab/docker.ts';
import type { Lab, LabHost, LabPod } from '../lab/lab.ts';
import { ipBatch, nsExec } from '../lab/netns.ts';
import { ping } from '../lab/ping.ts';

const skip = process.getuid?.() === 0 ? false : 'needs root: network namespaces and dockerd';
const MARK = '-m comment --comment "tartan forward"';
const JUMP = `-A FORWARD ${MARK} -j TARTAN-FWD`;

/** Every line of a filter table that tartan wrote (its comment or its chain). */
function tartanLines(save: string): string[] {
  return save.split('\n').filter((l) => l.includes('tartan forward') || l.includes('TARTAN-FWD'));
}

/** What tartan's rules must be on every host: one jump, the two cluster-Network accepts. */
function expectedLines(network: string): string[] {
  return [':TARTAN-FWD - [0:0]', JUMP, `-A TARTAN-FWD -s ${network} ${MARK} -j ACCEPT`, `-A TARTAN-FWD -d ${network} ${MARK} -j ACCEPT`];
}

const answers = async (from: LabContainer, to: string): Promise<boolean> => (await containerPing(from, to, { count: 1, timeout: 1 })).received === 1;

describe('Docker hosts (vxlan): dockerd with its stock firewall, tartan forward rules', { skip }, () => {
  let cluster: DockerCluster;
  let lab: Lab;
  let c1: LabContainer;
  let c2: LabContainer;
  let pod3: LabPod;
  const h = (n: number): LabHost => lab.hosts[n - 1]!;
  const agentLog = (host: LabHost): string => cluster.agentLog(host);
  const restartAgent = async (host: LabHost, extra: readonly string[] = []): Promise<void> => {
    await cluster.stopAgent(host);
    cluster.startAgent(host, extra);
  };

  before(async () => {
    cluster = await startDockerCluster({ hosts: 3, dockerHosts: [1, 2], backend: 'vxlan', agentArgs: ['--ip-masq', '--resync-period', '1s'], outside: true });
    lab = cluster.lab;
    [c1, c2] = cluster.containers as [LabContainer, LabContainer];
    pod3 = cluster.pods[0]!;
    // Agents program peers as leases arrive: wait until the vxlan path carries the first ping.
    await waitFor('c1 to reach c2', () => answers(c1, c2.ip), { timeoutMs: 30_000, everyMs: 300 });
  });
  after(async () => {
    await cluster?.destroy();
  });

  it('dockerd ran with docker-opts\' --bip and --mtu, turned forwarding on and set FORWARD to DROP (iptables-nft backend)', async () => {
    for (const [i, d] of cluster.daemons.entries()) {
      const host = h(i + 1);
      const subnet = cluster.subnets.get(host)!.text;
      const addr = (await nsExec(host.ns, 'ip', ['-4', '-o', 'addr', 'show', 'docker0'])).stdout;
      assert.match(addr, new RegExp(`inet ${subnet.replace(/\./g, '\\.')} `), `docker0 on ${host.ns} holds FLANNEL_SUBNET ${subnet}`);
      assert.match((await nsExec(host.ns, 'ip', ['-o', 'link', 'show', 'docker0'])).stdout, /mtu 1450 /);
      assert.equal((await nsExec(host.ns, 'sysctl', ['-n', 'net.ipv4.ip_forward'])).stdout.trim(), '1');
      const save = await filterTable(host);
      assert.match(save, /^:FORWARD DROP/m, `${host.ns}: Docker's policy`);
      assert.match(save, /^-A FORWARD -j DOCKER-USER$/m);
      assert.match((await nsExec(host.ns, 'iptables', ['-V'])).stdout, /nf_tables/);
      assert.ok(d.pid > 0);
    }
  });

  it('tartan holds exactly one jump and the two cluster-Network accepts, nothing else', async () => {
    for (const host of lab.hosts) {
      assert.deepEqual(tartanLines(await filterTable(host)), expectedLines(lab.network), host.ns);
      assert.deepEqual(tartanLines(await filterTable(host, 6)), [], `${host.ns}: no IPv6Network, no ip6tables rules`);
    }
  });

  it('containers on different hosts ping each other', async () => {
    assert.equal((await containerPing(c1, c2.ip)).received, 2);
    assert.equal((await containerPing(c2, c1.ip)).received, 2);
  });

  it('a container pings other hosts\' addresses and a non-Docker pod on h3; the pod pings it back', async () => {
    assert.equal((await containerPing(c1, h(2).ip)).received, 2);
    assert.equal((await containerPing(c1, h(3).ip)).received, 2);
    assert.equal((await containerPing(c2, pod3.ip)).received, 2);
    assert.equal((await ping(pod3.ns, c1.ip)).received, 2);
  });

  it('traffic between addresses outside the cluster Network is still dropped by Docker\'s policy on h1', async () => {
    // outside (172.31.255.2, wired to h1) → h2's eth0 through h1: neither end is in the Network.
    const outside = lab.outside!;
    await ipBatch(outside.ns, [`route add 192.168.100.0/24 via ${outside.hostSideIp}`]);
    await ipBatch(h(2).ns, [`route add 172.31.255.0/30 via ${h(1).ip}`]);
    assert.equal((await ping(outside.ns, h(2).ip, { count: 2, timeout: 1 })).received, 0);
    // The path itself works: an operator's accepts in DOCKER-USER (both ways) let it through.
    const rules = [['-s', '172.31.255.0/30', '-j', 'ACCEPT'], ['-d', '172.31.255.0/30', '-j', 'ACCEPT']];
    for (const r of rules) await nsExec(h(1).ns, 'iptables', ['-I', 'DOCKER-USER', ...r]);
    try {
      assert.equal((await ping(outside.ns, h(2).ip, { count: 2, timeout: 1 })).received, 2);
    } finally {
      for (const r of rules) await nsExec(h(1).ns, 'iptables', ['-D', 'DOCKER-USER', ...r]);
    }
  });

  it('resyncs re-apply nothing when the rules are right, and repair them without duplicates', async () => {
    const before1 = await filterTable(h(1));
    await new Promise((r) => setTimeout(r, 3_500)); // three resyncs at --resync-period 1s
    assert.deepEqual(tartanLines(await filterTable(h(1))), tartanLines(before1));
    assert.doesNotMatch(agentLog(h(1)), /forward rules were missing/);
    // Damage both parts, the jump and one accept, in one transaction (a resync every second
    // could repair the first before the second otherwise); it succeeds only if both were there.
    const damage = await nsExec(h(1).ns, 'iptables-restore', ['--noflush'], {
      input: `*filter\n-D FORWARD ${MARK} -j TARTAN-FWD\n-D TARTAN-FWD -d ${lab.network} ${MARK} -j ACCEPT\nCOMMIT\n`,
    });
    assert.equal(damage.code, 0, damage.stderr);
    await waitFor('h1\'s agent to restore its forward rules', async () => tartanLines(await filterTable(h(1))).length === 4, { timeoutMs: 10_000 });
    assert.deepEqual(tartanLines(await filterTable(h(1))), tartanLines(before1));
    await waitFor('h1\'s agent to log the repair', () => /forward rules were missing or changed; restored/.test(agentLog(h(1))), { timeoutMs: 5_000 });
    assert.equal((await containerPing(c2, c1.ip)).received, 2);
  });

  it('agent stop leaves the rules (and the data path) in place; a restart adds no duplicate', async () => {
    const before2 = tartanLines(await filterTable(h(2)));
    await cluster.stopAgent(h(2));
    assert.deepEqual(tartanLines(await filterTable(h(2))), before2);
    assert.equal((await containerPing(c1, c2.ip)).received, 2);
    cluster.startAgent(h(2));
    await waitFor('h2\'s agent to start again', () => /wrote subnet file[\s\S]*wrote subnet file/.test(agentLog(h(2))), { timeoutMs: 30_000 });
    assert.deepEqual(tartanLines(await filterTable(h(2))), before2);
  });

  it('--iptables-forward-rules=false removes the rules, and then cross-host container pings fail', async () => {
    for (const host of [h(1), h(2)]) await restartAgent(host, ['--iptables-forward-rules=false']);
    for (const host of [h(1), h(2)]) {
      await waitFor(`${host.ns}: tartan's forward rules gone`, async () => tartanLines(await filterTable(host)).length === 0, { timeoutMs: 30_000 });
    }
    const nft = (await nsExec(h(2).ns, 'nft', ['list', 'chain', 'inet', 'tartan', 'forward'])).stdout;
    assert.match(nft, /ip daddr 10\.42\.0\.0\/16 accept/, 'tartan\'s nftables forward accept is there, and does not help');
    assert.equal((await containerPing(c1, c2.ip)).received, 0);
    assert.equal((await containerPing(c2, c1.ip)).received, 0);
    assert.equal((await ping(pod3.ns, c1.ip, { count: 2, timeout: 1 })).received, 0);
    // The hosts still reach each other: only Docker's FORWARD policy stands in the way.
    assert.equal((await containerPing(c1, h(2).ip)).received, 2);
  });

  it('switched back on, the rules return and the pings pass again', async () => {
    for (const host of [h(1), h(2)]) await restartAgent(host);
    for (const host of [h(1), h(2)]) {
      await waitFor(`${host.ns}: tartan's forward rules back`, async () => tartanLines(await filterTable(host)).length === 4, { timeoutMs: 30_000 });
    }
    assert.equal((await containerPing(c1, c2.ip)).received, 2);
    assert.equal((await containerPing(c2, c1.ip)).received, 2);
    assert.equal((await ping(pod3.ns, c1.ip)).received, 2);
  });
});

describe('Docker hosts (host-gw): the same forward rules let containers on two hosts ping each other', { skip }, () => {
  let cluster: DockerCluster;

  before(async () => {
    cluster = await startDockerCluster({ hosts: 2, dockerHosts: [1, 2], backend: 'host-gw', agentArgs: ['--ip-masq'] });
  });
  after(async () => {
    await cluster?.destroy();
  });

  it('FORWARD drops by Docker\'s policy, tartan\'s rules hold only the Network, and c1 and c2 ping each other', async () => {
    const [c1, c2] = cluster.containers as [LabContainer, LabContainer];
    for (const host of cluster.lab.hosts) {
      const save = await filterTable(host);
      assert.match(save, /^:FORWARD DROP/m, host.ns);
      assert.deepEqual(tartanLines(save), expectedLines(cluster.lab.network), host.ns);
    }
    await waitFor('c1 to reach c2 over host-gw', () => answers(c1, c2.ip), { timeoutMs: 30_000, everyMs: 300 });
    assert.equal((await containerPing(c1, c2.ip)).received, 2);
    assert.equal((await containerPing(c2, c1.ip)).received, 2);
  });
});
