// ip-masq: a pod reaches a machine off the cluster Network with its source
// masqueraded to the host's address; pod-to-pod traffic keeps the pod's address.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MASQ_TABLE, applyMasquerade, removeMasquerade } from '../../src/kernel/index.ts';
import { type Lab, type LabCluster, createLab, nsExec, peerAddressSeenBy, startCluster, startPeerAddressServer } from '../lab/index.ts';

const skip = process.getuid?.() === 0 ? false : 'needs root: builds network namespaces';
const PORT = 7007;

describe('kernel: ip-masq (nftables table inet tartan)', { skip }, () => {
  let lab: Lab;
  let cluster: LabCluster;
  const servers: Array<{ stop(): Promise<void> }> = [];

  before(async () => {
    lab = await createLab({ hosts: 2, podsPerHost: 1, dualStack: true, outside: true });
    cluster = await startCluster(lab, { backend: { Type: 'vxlan' } });
    const outside = lab.outside!;
    const remotePod = lab.hosts[1]!.pods[0]!;
    servers.push(
      await startPeerAddressServer(outside.ns, outside.ip, PORT),
      await startPeerAddressServer(outside.ns, outside.ip6!, PORT),
      await startPeerAddressServer(remotePod.ns, remotePod.ip, PORT),
    );
  });
  after(async () => {
    for (const s of servers) await s.stop();
    await lab?.destroy();
  });

  const masqSpec = () => {
    const h1 = lab.hosts[0]!;
    const net = cluster.network;
    return {
      ipv4: { network: net.ipv4!.network, subnet: h1.subnet },
      ipv6: { network: net.ipv6!.network, subnet: h1.ipv6Subnet! },
    };
  };

  it('without ip-masq the outside cannot answer a pod (it has no route to pod subnets)', async () => {
    const pod = lab.hosts[0]!.pods[0]!;
    assert.equal(await peerAddressSeenBy(pod.ns, lab.outside!.ip, PORT), undefined);
  });

  it('with ip-masq a pod reaches the outside, seen as the host\'s address (IPv4 and IPv6)', async () => {
    const h1 = lab.hosts[0]!;
    await applyMasquerade(masqSpec(), { netns: h1.ns });
    assert.equal(await peerAddressSeenBy(h1.pods[0]!.ns, lab.outside!.ip, PORT), lab.outside!.hostSideIp);
    assert.equal(await peerAddressSeenBy(h1.pods[0]!.ns, lab.outside!.ip6!, PORT), lab.outside!.hostSideIp6);
  });

  it('pod-to-pod traffic across hosts is not masqueraded', async () => {
    const pod = lab.hosts[0]!.pods[0]!;
    const remote = lab.hosts[1]!.pods[0]!;
    assert.equal(await peerAddressSeenBy(pod.ns, remote.ip, PORT), pod.ip);
  });

  it('re-applying replaces the table in place: still one tartan table, same rules, traffic unaffected', async () => {
    const h1 = lab.hosts[0]!;
    const list = async (): Promise<string> => (await nsExec(h1.ns, 'nft', ['list', 'table', 'inet', MASQ_TABLE])).stdout;
    const first = await list();
    await applyMasquerade(masqSpec(), { netns: h1.ns });
    await applyMasquerade(masqSpec(), { netns: h1.ns });
    assert.equal(await list(), first);
    const tables = (await nsExec(h1.ns, 'nft', ['list', 'tables'])).stdout.trim().split('\n');
    assert.deepEqual(tables, [`table inet ${MASQ_TABLE}`]);
    assert.equal(await peerAddressSeenBy(h1.pods[0]!.ns, lab.outside!.ip, PORT), lab.outside!.hostSideIp);
  });

  it('switching ip-masq off removes tartan\'s table and nothing else', async () => {
    const h1 = lab.hosts[0]!;
    await nsExec(h1.ns, 'nft', ['add', 'table', 'inet', 'someone-else']);
    await removeMasquerade({ netns: h1.ns });
    await removeMasquerade({ netns: h1.ns });
    assert.deepEqual((await nsExec(h1.ns, 'nft', ['list', 'tables'])).stdout.trim().split('\n'), ['table inet someone-else']);
    assert.equal(await peerAddressSeenBy(h1.pods[0]!.ns, lab.outside!.ip, PORT), undefined);
  });
});
