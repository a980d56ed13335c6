// vxlan backend on 3 lab hosts (network namespaces), driven in-process.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/observe/log.ts';
import {
  type Lab, type LabCluster, createLab, failures, fdbs, link, neighs, nsExec, ping, pingMatrix, routeTo, routes, startCluster,
} from '../lab/index.ts';

const skip = process.getuid?.() === 0 ? false : 'needs root: builds network namespaces';

describe('kernel: vxlan backend across 3 hosts', { skip }, () => {
  let lab: Lab;
  let cluster: LabCluster;
  const logs: Array<{ level: number; msg: string; lease?: string; field?: string }> = [];

  before(async () => {
    lab = await createLab({ hosts: 3, podsPerHost: 2 });
    const destination = new Writable({
      write(chunk: Buffer, _e, cb) {
        for (const l of chunk.toString().split('\n')) if (l) logs.push(JSON.parse(l) as (typeof logs)[number]);
        cb();
      },
    });
    cluster = await startCluster(lab, { backend: { Type: 'vxlan' }, log: createLogger({ destination }) });
  });
  after(async () => {
    await lab?.destroy();
  });

  it('every pod reaches every other pod', async () => {
    assert.deepEqual(failures(await pingMatrix(lab)), []);
  });

  it('programs flannel\'s objects: flannel.1 (nolearning, MTU 1450, subnet address /32), fdb, permanent neigh, onlink route with proto 116', async () => {
    const [h1, h2] = cluster.nodes;
    const dev = await link(h1!.host.ns, 'flannel.1');
    assert.equal(dev?.mtu, 1450);
    const details = JSON.parse((await nsExec(h1!.host.ns, 'ip', ['-d', '-j', 'addr', 'show', 'dev', 'flannel.1'])).stdout) as
      Array<{ linkinfo: { info_data: { id: number; port: number; learning: boolean; local: string; link: string } }; addr_info: Array<{ local: string; prefixlen: number; scope: string }> }>;
    const d = details[0]!.linkinfo.info_data;
    assert.deepEqual({ id: d.id, port: d.port, learning: d.learning, local: d.local, link: d.link }, { id: 1, port: 8472, learning: false, local: h1!.host.ip, link: 'eth0' });
    assert.deepEqual(details[0]!.addr_info.filter((a) => a.scope === 'global').map((a) => `${a.local}/${a.prefixlen}`), ['10.42.1.0/32']);
    assert.equal(cluster.nodes[0]!.prepared.mtu, 1450);
    assert.deepEqual(h1!.prepared.backendData, { VNI: 1, VtepMAC: dev?.address });
    const h2Mac = (h2!.prepared.backendData as { VtepMAC: string }).VtepMAC;
    const r = routeTo(await routes(h1!.host.ns), '10.42.2.0/24');
    assert.deepEqual(r, { dst: '10.42.2.0/24', gateway: '10.42.2.0', dev: 'flannel.1', protocol: '116', flags: ['onlink'] });
    assert.ok((await neighs(h1!.host.ns, 'flannel.1')).some((n) => n.dst === '10.42.2.0' && n.lladdr === h2Mac));
    assert.ok((await fdbs(h1!.host.ns, 'flannel.1')).some((f) => f.mac === h2Mac && f.dst === h2!.host.ip && f.state === 'permanent'));
  });

  it('a removed peer loses its route, neigh and fdb; added back it is reachable again', async () => {
    const [h1, , h3] = cluster.nodes;
    const all = cluster.leases;
    const h3Mac = (h3!.prepared.backendData as { VtepMAC: string }).VtepMAC;
    cluster.leases = all.filter((l) => l.key !== h3!.lease.key);
    await cluster.reconcileAll();
    assert.equal(routeTo(await routes(h1!.host.ns), '10.42.3.0/24'), undefined);
    assert.ok(!(await neighs(h1!.host.ns, 'flannel.1')).some((n) => n.dst === '10.42.3.0'));
    assert.ok(!(await fdbs(h1!.host.ns, 'flannel.1')).some((f) => f.mac === h3Mac));
    assert.equal((await ping(lab.pods[0]!.ns, lab.hosts[2]!.pods[0]!.ip, { count: 1, timeout: 1 })).received, 0);

    cluster.leases = all;
    await cluster.reconcileAll();
    assert.deepEqual(failures(await pingMatrix(lab)), []);
  });

  it('skips a peer with a corrupt VtepMAC (one warning naming the lease and field); every other peer still works', async () => {
    const [h1, , h3] = cluster.nodes;
    // h3's lease goes bad after it worked, and a new peer arrives with bad data from the start.
    const corrupt = { ...h3!.lease, attrs: { ...h3!.lease.attrs, backendData: { VNI: 1, VtepMAC: 'not-a-mac' } } };
    const fresh = { ...corrupt, key: '10.42.9.0-24', subnet: { ...corrupt.subnet, addr: corrupt.subnet.addr + 6n * 256n } };
    const peers = [...cluster.leases.filter((l) => l.key !== h1!.lease.key && l.key !== h3!.lease.key), corrupt, fresh];
    await h1!.backend.reconcile(peers, new AbortController().signal, { observe: true });
    await h1!.backend.reconcile(peers, new AbortController().signal, { observe: true });
    const warnings = logs.filter((l) => l.level === 40 && l.lease === '10.42.9.0-24');
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]!.field, 'lease 10.42.9.0-24.BackendData.VtepMAC');
    assert.equal(routeTo(await routes(h1!.host.ns), '10.42.9.0/24'), undefined);
    // Fail static: h3's path stays although its lease became unreadable, and pods still reach it.
    assert.ok(routeTo(await routes(h1!.host.ns), '10.42.3.0/24'));
    assert.deepEqual(failures(await pingMatrix(lab)), []);
  });

  it('ignores a peer of another BackendType with one log line, however often it resyncs', async () => {
    const [h1] = cluster.nodes;
    const other = { ...cluster.leases[1]!, key: '10.42.8.0-24', subnet: { ...cluster.leases[1]!.subnet, addr: cluster.leases[1]!.subnet.addr + 6n * 256n } };
    const foreign = { ...other, attrs: { ...other.attrs, backendType: 'host-gw' } };
    const peers = [...cluster.leases.filter((l) => l.key !== h1!.lease.key), foreign];
    for (let i = 0; i < 3; i++) await h1!.backend.reconcile(peers, new AbortController().signal, { observe: true });
    assert.equal(logs.filter((l) => l.lease === '10.42.8.0-24').length, 1);
    assert.equal(routeTo(await routes(h1!.host.ns), '10.42.8.0/24'), undefined);
  });
});
