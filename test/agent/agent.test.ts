// The agent's lifecycle in-process against a real etcd, with a recording backend
// (the kernel backends have their own tests in namespaces).
import { waitFor } from '../support/wait.ts';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from '../../src/agent/agent.ts';
import type { Backend } from '../../src/agent/backend.ts';
import { parseNetworkConfig } from '../../src/config/network.ts';
import { EtcdLeaseStore, LeaseRevokedError, type Lease } from '../../src/lease/index.ts';
import { silentLogger } from '../../src/observe/log.ts';
import { FakeClock } from '../../src/util/fake-clock.ts';
import { etcdClientFixture, uniquePrefix } from '../support/etcd.ts';

class RecordingBackend implements Backend {
  readonly type = 'vxlan';
  peers: string[] = [];
  calls: { observe: boolean }[] = [];
  activated: string | undefined;
  async prepare() {
    return { backendData: { VNI: 1, VtepMAC: '02:00:00:00:00:01' }, mtu: 1450 };
  }
  async activate(own: { subnet: { addr: bigint } }) {
    this.activated = String(own.subnet.addr);
  }
  async reconcile(peers: readonly Lease[], _signal: AbortSignal, opts?: { observe?: boolean }) {
    this.peers = peers.map((p) => p.key).sort();
    this.calls.push({ observe: opts?.observe === true });
  }
}

const iface = (ip: string) => ({ name: 'eth0', index: 2, mtu: 1500, ipv4: ip, publicIp: ip });

describe('agent lifecycle (etcd mode)', () => {
  const etcd = etcdClientFixture();

  const setup = (label: string, ttl?: number, clock?: FakeClock) => {
    const store = new EtcdLeaseStore({ client: etcd.client, prefix: uniquePrefix(label), leaseTtlSeconds: ttl, ...(clock ? { clock } : {}) });
    const dir = mkdtempSync(join(tmpdir(), 'tartan-agent-'));
    const config = parseNetworkConfig('{"Network":"10.100.0.0/16"}');
    return { store, config, subnetFile: join(dir, 'subnet.env') };
  };
  const agentFor = (s: ReturnType<typeof setup>, ip: string, backend: Backend, extra: Partial<ConstructorParameters<typeof Agent>[0]> = {}) =>
    new Agent({ store: s.store, config: s.config, iface: iface(ip), backend, subnetFile: s.subnetFile, ipMasq: true, renewMarginMs: 60_000, resyncMs: 200, log: silentLogger(), ...extra });

  test('writes subnet.env, sees peers come and go, resyncs, and keeps the lease on shutdown', async () => {
    const s = setup('life');
    const backend = new RecordingBackend();
    const clock = new FakeClock();
    const agent = agentFor(s, '192.168.10.1', backend, { clock });
    const ac = new AbortController();
    const running = agent.run(ac.signal);
    await waitFor('ready', () => agent.state.ready);
    const own = agent.state.lease!;
    assert.equal(
      readFileSync(s.subnetFile, 'utf8'),
      `FLANNEL_NETWORK=10.100.0.0/16\nFLANNEL_SUBNET=${own.key.replace(/0-24$/, '1/24')}\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n`,
    );
    const peer = await s.store.acquire(s.config, { attrs: { publicIp: '192.168.10.2', backendType: 'vxlan', backendData: { VNI: 1, VtepMAC: '02:00:00:00:00:02' } } }, ac.signal);
    await waitFor('peer programmed', () => backend.peers.includes(peer.key));
    assert.ok(!backend.peers.includes(own.key), 'own lease is not a peer');
    await etcd.client.delete().key(`${s.store.subnetsPrefix}${peer.key}`);
    await waitFor('peer removed', () => backend.peers.length === 0);
    // The resync (resyncMs 200) is due 200 ms after the last pass, and only then reads the kernel.
    const resyncAt = clock.now() + 200;
    await waitFor('the reconcile loop waiting for its resync', () => clock.pending().includes(resyncAt));
    await clock.advance(199);
    assert.ok(!backend.calls.some((c) => c.observe), 'no resync before resyncMs');
    await clock.advance(1);
    assert.ok(backend.calls.at(-1)?.observe, 'the resync at resyncMs reads the kernel');
    ac.abort();
    await running;
    const after = await s.store.list(new AbortController().signal);
    assert.ok(after.leases.some((l) => l.key === own.key), 'lease left in place after shutdown');
  });

  test("this host's lease deleted by someone → run() rejects with LeaseRevokedError", async () => {
    const s = setup('revoked');
    const agent = agentFor(s, '192.168.11.1', new RecordingBackend());
    const ac = new AbortController();
    const outcome = agent.run(ac.signal).then(() => undefined, (err: unknown) => err);
    await waitFor('ready', () => agent.state.ready);
    await etcd.client.delete().key(`${s.store.subnetsPrefix}${agent.state.lease!.key}`);
    assert.ok((await outcome) instanceof LeaseRevokedError);
    ac.abort();
  });

  test('renews at expiry − margin, not a millisecond before; the new lease runs a full TTL from then', async () => {
    const clock = new FakeClock();
    const s = setup('renew', 125, clock);
    const agent = agentFor(s, '192.168.12.1', new RecordingBackend(), { renewMarginMs: 123_000, clock });
    const ac = new AbortController();
    const running = agent.run(ac.signal);
    await waitFor('ready', () => agent.state.ready);
    const first = agent.state.lease!;
    const renewAt = first.expiresAt! - 123_000;
    assert.equal(renewAt, clock.now() + 2_000, 'TTL 125 s − margin 123 s');
    await waitFor('the renewal scheduled', () => clock.pending().includes(renewAt));
    await clock.advance(renewAt - clock.now() - 1);
    assert.equal(agent.state.lease, first, 'not renewed before expiry − margin');
    await clock.advance(1);
    await waitFor('renewed in etcd', () => agent.state.lease !== first);
    assert.equal(agent.state.lease?.expiresAt, renewAt + 125_000);
    assert.ok(clock.pending().includes(renewAt + 2_000), 'the next renewal is due at the new expiry − margin');
    ac.abort();
    await running;
  });

  test('a restart with the same PublicIP keeps the subnet (and reads the previous subnet.env)', async () => {
    const s = setup('restart');
    const run = async () => {
      const agent = agentFor(s, '192.168.13.1', new RecordingBackend());
      const ac = new AbortController();
      const running = agent.run(ac.signal);
      await waitFor('ready', () => agent.state.ready);
      ac.abort();
      await running;
      return agent.state.lease!.key;
    };
    assert.equal(await run(), await run());
  });
});
