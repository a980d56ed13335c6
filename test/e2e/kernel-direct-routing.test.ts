// vxlan with DirectRouting: hosts on one L2 segment get plain routes to each
// other (no encapsulation); a host behind a router falls back to vxlan.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { type Lab, type LabCluster, createLab, failures, fdbs, neighs, pingMatrix, routeTo, routes, startCluster } from '../lab/index.ts';

const skip = process.getuid?.() === 0 ? false : 'needs root: builds network namespaces';

describe('kernel: vxlan with DirectRouting', { skip }, () => {
  let lab: Lab;
  let cluster: LabCluster;

  before(async () => {
    lab = await createLab({ hosts: 3, podsPerHost: 2, segments: [0, 0, 1] });
    cluster = await startCluster(lab, { backend: { Type: 'vxlan', directrouting: true } });
  });
  after(async () => {
    await lab?.destroy();
  });

  it('every pod reaches every other pod, on the segment and across the router', async () => {
    assert.deepEqual(failures(await pingMatrix(lab)), []);
  });

  it('same segment: a plain route via the PublicIP on eth0, and no neigh/fdb for that peer', async () => {
    const h1 = cluster.nodes[0]!;
    const h2 = cluster.nodes[1]!;
    assert.deepEqual(routeTo(await routes(h1.host.ns), '10.42.2.0/24'), {
      dst: '10.42.2.0/24', gateway: h2.host.ip, dev: 'eth0', protocol: '116', flags: [],
    });
    const h2Mac = (h2.prepared.backendData as { VtepMAC: string }).VtepMAC;
    assert.ok(!(await neighs(h1.host.ns, 'flannel.1')).some((n) => n.lladdr === h2Mac));
    assert.ok(!(await fdbs(h1.host.ns, 'flannel.1')).some((f) => f.mac === h2Mac));
  });

  it('across the router: vxlan (onlink route, neigh, fdb)', async () => {
    const h1 = cluster.nodes[0]!;
    const h3 = cluster.nodes[2]!;
    assert.deepEqual(routeTo(await routes(h1.host.ns), '10.42.3.0/24'), {
      dst: '10.42.3.0/24', gateway: '10.42.3.0', dev: 'flannel.1', protocol: '116', flags: ['onlink'],
    });
    const h3Mac = (h3.prepared.backendData as { VtepMAC: string }).VtepMAC;
    assert.ok((await fdbs(h1.host.ns, 'flannel.1')).some((f) => f.mac === h3Mac && f.dst === h3.host.ip));
  });
});
