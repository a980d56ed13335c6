// Dual-stack vxlan: flannel.1 and flannel-v6.1, IPv4 and IPv6 pings between all pods.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/observe/log.ts';
import { type Lab, type LabCluster, createLab, failures, fdbs, link, neighs, pingMatrix, routeTo, routes, startCluster } from '../lab/index.ts';

const skip = process.getuid?.() === 0 ? false : 'needs root: builds network namespaces';

describe('kernel: dual-stack vxlan', { skip }, () => {
  let lab: Lab;
  let cluster: LabCluster;

  before(async () => {
    lab = await createLab({ hosts: 3, podsPerHost: 2, dualStack: true });
    cluster = await startCluster(lab, { backend: { Type: 'vxlan' } });
  });
  after(async () => {
    await lab?.destroy();
  });

  it('every pod reaches every other pod over IPv4 and IPv6', async () => {
    assert.deepEqual(failures(await pingMatrix(lab, { families: [4, 6] })), []);
  });

  it('programs the same objects in v6 on flannel-v6.1 (MTU link − 70) from BackendV6Data and PublicIPv6', async () => {
    const h1 = cluster.nodes[0]!;
    const h2 = cluster.nodes[1]!;
    const v6dev = await link(h1.host.ns, 'flannel-v6.1');
    assert.equal(v6dev?.mtu, 1430);
    assert.deepEqual(h1.prepared.backendV6Data, { VNI: 1, VtepMAC: v6dev?.address });
    const mac = (h2.prepared.backendV6Data as { VtepMAC: string }).VtepMAC;
    const r = routeTo(await routes(h1.host.ns, 6), 'fd42:0:0:2::/64');
    assert.equal(r?.gateway, 'fd42:0:0:2::');
    assert.equal(r?.dev, 'flannel-v6.1');
    assert.equal(r?.protocol, '116');
    assert.deepEqual(r?.flags, ['onlink']);
    assert.ok((await neighs(h1.host.ns, 'flannel-v6.1')).some((n) => n.dst === 'fd42:0:0:2::' && n.lladdr === mac));
    assert.ok((await fdbs(h1.host.ns, 'flannel-v6.1')).some((f) => f.mac === mac && f.dst === h2.host.ip6));
  });

  it('a restart reuses both devices and finds every v4 and v6 object already right (nothing sent)', async () => {
    const h1 = cluster.nodes[0]!;
    const msgs: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _e, cb) {
        for (const l of chunk.toString().split('\n')) if (l) msgs.push((JSON.parse(l) as { msg: string }).msg);
        cb();
      },
    });
    const restarted = await cluster.restart(h1, { log: createLogger({ destination }) });
    const peers = cluster.leases.filter((l) => l.key !== h1.lease.key);
    await restarted.backend.reconcile(peers, new AbortController().signal);
    await restarted.backend.reconcile(peers, new AbortController().signal, { observe: true });
    assert.deepEqual(msgs, []);
    assert.deepEqual(restarted.prepared, h1.prepared);
  });
});
