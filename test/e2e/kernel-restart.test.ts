// Restarts, stale state and drift: invariant 3 ("a restart changes nothing that is
// already right") and flannel #2554 (routes of peers that left while down).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/observe/log.ts';
import {
  type Lab, type LabCluster, createLab, failures, fdbs, link, neighs, nsExec, pingMatrix, pingStream, routeTo, routes,
  startCluster, watchKernel,
} from '../lab/index.ts';

const skip = process.getuid?.() === 0 ? false : 'needs root: builds network namespaces';

function capture(): { log: ReturnType<typeof createLogger>; lines: Array<{ msg: string }> } {
  const lines: Array<{ msg: string }> = [];
  const destination = new Writable({
    write(chunk: Buffer, _e, cb) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as { msg: string });
      cb();
    },
  });
  return { log: createLogger({ destination, level: 'debug' }), lines };
}

async function ip(ns: string, ...args: string[]): Promise<void> {
  const res = await nsExec(ns, 'ip', args);
  assert.equal(res.code, 0, res.stderr);
}

describe('kernel: restart, stale state and drift (vxlan)', { skip }, () => {
  let lab: Lab;
  let cluster: LabCluster;

  before(async () => {
    lab = await createLab({ hosts: 3, podsPerHost: 1 });
    cluster = await startCluster(lab, { backend: { Type: 'vxlan' } });
  });
  after(async () => {
    await lab?.destroy();
  });

  it('a restart reuses the device (same MAC and ifindex), changes nothing, and loses no packet at 50/s', async () => {
    const h1 = cluster.nodes[0]!;
    const [a, b] = [lab.hosts[0]!.pods[0]!, lab.hosts[1]!.pods[0]!];
    const before = await link(h1.host.ns, 'flannel.1');
    const state = async (): Promise<unknown> => [await routes(h1.host.ns), await neighs(h1.host.ns, 'flannel.1'), await fdbs(h1.host.ns, 'flannel.1')];
    const stateBefore = await state();
    const watch = await watchKernel(h1.host.ns, 'p1');
    const there = pingStream(a.ns, b.ip, { count: 150, timeout: 3 });
    const back = pingStream(b.ns, a.ip, { count: 150, timeout: 3 });
    await new Promise((r) => setTimeout(r, 500));

    const logs = capture();
    const restarted = await cluster.restart(h1, { log: logs.log });
    // the agent's first reconcile after start (reads the kernel), then a periodic resync
    const peers = cluster.leases.filter((l) => l.key !== h1.lease.key);
    await restarted.backend.reconcile(peers, new AbortController().signal);
    await restarted.backend.reconcile(peers, new AbortController().signal, { observe: true });

    const [resThere, resBack] = await Promise.all([there.done, back.done]);
    const changes = await watch.stop();
    const after = await link(h1.host.ns, 'flannel.1');
    assert.deepEqual({ mac: after?.address, ifindex: after?.ifindex }, { mac: before?.address, ifindex: before?.ifindex });
    assert.deepEqual(restarted.prepared.backendData, h1.prepared.backendData);
    assert.deepEqual(changes, [], 'no route, neigh, link or fdb event during the restart');
    assert.deepEqual(logs.lines.map((l) => l.msg), [], 'the new instance created nothing and sent no change');
    assert.deepEqual(await state(), stateBefore);
    assert.equal(resThere.transmitted, 150);
    assert.deepEqual([resThere.lost, resBack.lost], [0, 0], `${resThere.output}\n${resBack.output}`);
  });

  it('at start, removes tartan\'s routes (and neigh/fdb) of peers that left while it was down; other routes survive', async () => {
    const h1 = cluster.nodes[0]!;
    // A peer that left while tartan was down, and routes of somebody else in and around the cluster range.
    await ip(h1.host.ns, 'neigh', 'replace', '10.42.77.0', 'lladdr', '0e:00:00:00:77:77', 'dev', 'flannel.1', 'nud', 'permanent');
    await ip(h1.host.ns, 'route', 'replace', '10.42.77.0/24', 'via', '10.42.77.0', 'dev', 'flannel.1', 'onlink', 'proto', '116');
    await nsExec(h1.host.ns, 'bridge', ['fdb', 'replace', '0e:00:00:00:77:77', 'dev', 'flannel.1', 'dst', '192.168.100.77', 'self', 'permanent']);
    await ip(h1.host.ns, 'route', 'replace', '10.42.78.0/24', 'via', '192.168.100.3', 'dev', 'eth0', 'proto', 'static');
    await ip(h1.host.ns, 'route', 'replace', '10.42.79.0/24', 'via', '192.168.100.3', 'dev', 'eth0');

    const logs = capture();
    const restarted = await cluster.restart(h1, { log: logs.log });
    await restarted.backend.reconcile(cluster.leases.filter((l) => l.key !== h1.lease.key), new AbortController().signal);
    assert.deepEqual(logs.lines.filter((l) => l.msg === 'programmed peers'), [
      { ...logs.lines.find((l) => l.msg === 'programmed peers'), add: 0, replace: 0, delete: 3, failed: 0, observed: true },
    ]);

    const table = await routes(h1.host.ns);
    assert.equal(routeTo(table, '10.42.77.0/24'), undefined);
    assert.ok(!(await neighs(h1.host.ns, 'flannel.1')).some((n) => n.dst === '10.42.77.0'));
    assert.ok(!(await fdbs(h1.host.ns, 'flannel.1')).some((f) => f.mac === '0e:00:00:00:77:77'));
    assert.equal(routeTo(table, '10.42.78.0/24')?.protocol, 'static');
    assert.equal(routeTo(table, '10.42.79.0/24')?.gateway, '192.168.100.3', 'proto boot (iproute2 does not print it)');
    assert.ok(routeTo(table, '10.42.2.0/24') && routeTo(table, '10.42.3.0/24'), 'live peers kept');
    assert.deepEqual(failures(await pingMatrix(lab)), []);
  });

  it('an event diffs against what was applied; the resync reads the kernel and repairs drift', async () => {
    const h1 = cluster.nodes[0]!;
    const peers = cluster.leases.filter((l) => l.key !== h1.lease.key);
    await ip(h1.host.ns, 'route', 'del', '10.42.2.0/24');
    await ip(h1.host.ns, 'neigh', 'del', '10.42.3.0', 'dev', 'flannel.1');

    await h1.backend.reconcile(peers, new AbortController().signal);
    assert.equal(routeTo(await routes(h1.host.ns), '10.42.2.0/24'), undefined, 'an event does not dump the kernel');

    await h1.backend.reconcile(peers, new AbortController().signal, { observe: true });
    assert.equal(routeTo(await routes(h1.host.ns), '10.42.2.0/24')?.gateway, '10.42.2.0');
    assert.ok((await neighs(h1.host.ns, 'flannel.1')).some((n) => n.dst === '10.42.3.0'));
    assert.deepEqual(failures(await pingMatrix(lab)), []);
  });

  it('re-creates a device whose identity changed (another VNI… here: another port), keeping the MAC', async () => {
    const h1 = cluster.nodes[0]!;
    const before = await link(h1.host.ns, 'flannel.1');
    await ip(h1.host.ns, 'link', 'del', 'flannel.1');
    await ip(h1.host.ns, 'link', 'add', 'flannel.1', 'address', before!.address, 'type', 'vxlan', 'id', '1', 'local', h1.host.ip,
      'dev', 'eth0', 'dstport', '4789', 'nolearning');
    const restarted = await cluster.restart(h1);
    await restarted.backend.reconcile(cluster.leases.filter((l) => l.key !== h1.lease.key), new AbortController().signal);
    const details = JSON.parse((await nsExec(h1.host.ns, 'ip', ['-d', '-j', 'link', 'show', 'flannel.1'])).stdout) as
      Array<{ address: string; linkinfo: { info_data: { port: number } } }>;
    assert.equal(details[0]!.linkinfo.info_data.port, 8472);
    assert.equal(details[0]!.address, before!.address);
    assert.deepEqual(failures(await pingMatrix(lab)), []);
  });
});
