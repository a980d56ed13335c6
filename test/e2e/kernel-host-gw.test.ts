// host-gw on 3 hosts of one L2 segment, plus a 4th host behind a router that
// host-gw cannot reach: it is reported (lease key + PublicIP) and skipped.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/observe/log.ts';
import { type Lab, type LabCluster, createLab, failures, link, pingMatrix, routeTo, routes, startCluster } from '../lab/index.ts';

const skip = process.getuid?.() === 0 ? false : 'needs root: builds network namespaces';

describe('kernel: host-gw backend', { skip }, () => {
  let lab: Lab;
  let cluster: LabCluster;
  const logs: Array<{ level: number; msg: string; lease?: string; field?: string; value?: string }> = [];

  before(async () => {
    lab = await createLab({ hosts: 4, podsPerHost: 2, segments: [0, 0, 0, 1], dualStack: true });
    const destination = new Writable({
      write(chunk: Buffer, _e, cb) {
        for (const l of chunk.toString().split('\n')) if (l) logs.push(JSON.parse(l) as (typeof logs)[number]);
        cb();
      },
    });
    cluster = await startCluster(lab, { backend: { Type: 'host-gw' }, log: createLogger({ destination }) });
  });
  after(async () => {
    await lab?.destroy();
  });

  it('every pod on the shared segment reaches every other, over IPv4 and IPv6', async () => {
    const pods = lab.hosts.slice(0, 3).flatMap((h) => h.pods);
    assert.deepEqual(failures(await pingMatrix(lab, { pods, families: [4, 6] })), []);
  });

  it('routes a peer subnet via its PublicIP on eth0 with proto 116; MTU is the link MTU', async () => {
    const h1 = cluster.nodes[0]!;
    assert.deepEqual(routeTo(await routes(h1.host.ns), '10.42.2.0/24'), {
      dst: '10.42.2.0/24', gateway: lab.hosts[1]!.ip, dev: 'eth0', protocol: '116', flags: [],
    });
    assert.equal(h1.prepared.mtu, (await link(h1.host.ns, 'eth0'))?.mtu);
    assert.equal(h1.prepared.backendData, undefined);
  });

  it('a peer behind a router gets a clear error naming its lease key and PublicIP, and no route', async () => {
    const h4 = lab.hosts[3]!;
    const key = lab.hosts[3]!.ipv6Subnet ? '10.42.4.0-24&fd42:0:0:4::-64' : '10.42.4.0-24';
    const errors = logs.filter((l) => l.lease === key && l.level === 40 && l.field === `lease ${key}.PublicIP`);
    assert.equal(errors.length, 3, 'one per host on the shared segment');
    assert.equal(errors[0]!.value, h4.ip);
    assert.match(errors[0]!.msg, /not on a network directly connected to eth0 \(192\.168\.100\.0\/24, fd00:0:0:100::\/64\)/);
    assert.equal(routeTo(await routes(cluster.nodes[0]!.host.ns), '10.42.4.0/24'), undefined);
    assert.ok(logs.some((l) => l.lease === key && l.field === `lease ${key}.PublicIPv6` && l.value === h4.ip6), 'and for IPv6');
  });
});
