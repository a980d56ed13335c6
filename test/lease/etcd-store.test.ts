// The etcd lease store against a real etcd (distro package).
import { waitFor } from '../support/wait.ts';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseNetworkConfig } from '../../src/config/network.ts';
import { InvalidInputError, QuotaExceededError } from '../../src/errors.ts';
import { EtcdLeaseStore, LeaseRevokedError, LeaseSet, createEtcdClient, type LeaseEvent } from '../../src/lease/index.ts';
import { ROUTE_STATUS_BATCH } from '../../src/lease/store.ts';
import { parseCidr } from '../../src/net/cidr.ts';
import { FakeClock } from '../../src/util/fake-clock.ts';
import { etcdClientFixture, startEtcd, uniquePrefix } from '../support/etcd.ts';

const attrs = (publicIp: string) => ({ publicIp, backendType: 'vxlan', backendData: { VNI: 1, VtepMAC: '8e:5a:0d:07:0f:0d' } });
const signal = new AbortController().signal;

describe('etcd lease store', () => {
  const etcd = etcdClientFixture();
  const store = (label: string, ttl?: number, clock?: FakeClock) =>
    new EtcdLeaseStore({ client: etcd.client, prefix: uniquePrefix(label), leaseTtlSeconds: ttl, ...(clock ? { clock } : {}) });

  test('200 racing acquisitions in one process get 200 distinct subnets', async () => {
    const s = store('race');
    const config = parseNetworkConfig('{"Network":"10.10.0.0/16"}');
    const leases = await Promise.all(Array.from({ length: 200 }, (_, i) => s.acquire(config, { attrs: attrs(`192.168.${i >> 8}.${i & 255}`) }, signal)));
    assert.equal(new Set(leases.map((l) => l.key)).size, 200);
    const listed = await s.list(signal);
    assert.equal(listed.leases.length, 200);
    for (const l of listed.leases) assert.ok(config.ipv4 && l.subnet.prefix === 24);
  });

  test('exhaustion is a clear "out of subnets" error', async () => {
    const s = store('exhaust');
    const config = parseNetworkConfig('{"Network":"10.20.0.0/22"}');
    for (let i = 1; i <= 3; i++) await s.acquire(config, { attrs: attrs(`192.168.1.${i}`) }, signal);
    await assert.rejects(s.acquire(config, { attrs: attrs('192.168.1.4') }, signal), (err: unknown) => {
      assert.ok(err instanceof QuotaExceededError);
      assert.match(err.message, /out of subnets.*10\.20\.0\.0\/22/);
      return true;
    });
  });

  test('the same PublicIP gets the same subnet again, with a fresh etcd lease', async () => {
    const s = store('restart');
    const config = parseNetworkConfig('{"Network":"10.30.0.0/16"}');
    const first = await s.acquire(config, { attrs: attrs('192.168.2.1') }, signal);
    const again = await s.acquire(config, { attrs: attrs('192.168.2.1') }, signal);
    assert.equal(again.key, first.key);
    assert.equal((await s.list(signal)).leases.length, 1);
  });

  test('the previous subnet.env subnet is preferred when free', async () => {
    const s = store('previous');
    const config = parseNetworkConfig('{"Network":"10.31.0.0/16"}');
    const lease = await s.acquire(config, { attrs: attrs('192.168.2.9'), previous: { subnet: parseCidr('10.31.77.0/24') } }, signal);
    assert.equal(lease.key, '10.31.77.0-24');
  });

  test('a reservation is used by its PublicIP only and stays without TTL', async () => {
    const s = store('reserve');
    const config = parseNetworkConfig('{"Network":"10.40.0.0/22"}');
    await etcd.client.put(`${s.subnetsPrefix}10.40.2.0-24`).value(JSON.stringify({ PublicIP: '192.168.3.7', PublicIPv6: null, BackendType: 'vxlan' }));
    const other1 = await s.acquire(config, { attrs: attrs('192.168.3.1') }, signal);
    const other2 = await s.acquire(config, { attrs: attrs('192.168.3.2') }, signal);
    assert.deepEqual([other1.key, other2.key].sort(), ['10.40.1.0-24', '10.40.3.0-24']);
    await assert.rejects(s.acquire(config, { attrs: attrs('192.168.3.3') }, signal), QuotaExceededError);
    const owner = await s.acquire(config, { attrs: attrs('192.168.3.7') }, signal);
    assert.equal(owner.key, '10.40.2.0-24');
    assert.equal(owner.reservation, true);
    const kv = (await etcd.client.get(`${s.subnetsPrefix}10.40.2.0-24`).exec()).kvs[0];
    assert.equal(kv?.lease, '0', 'still a reservation: no etcd lease attached');
    assert.match(kv.value.toString(), /"VtepMAC":"8e:5a:0d:07:0f:0d"/);
    assert.equal(await s.renew(owner, signal), owner);
  });

  test('renewal extends the etcd lease and revokes the old one', async () => {
    const clock = new FakeClock();
    const s = store('renew', 30, clock);
    const config = parseNetworkConfig('{"Network":"10.50.0.0/16"}');
    const lease = await s.acquire(config, { attrs: attrs('192.168.4.1') }, signal);
    assert.equal(lease.expiresAt, clock.now() + 30_000);
    const before = (await etcd.client.get(`${s.subnetsPrefix}${lease.key}`).exec()).kvs[0]!.lease;
    await clock.advance(1100);
    const renewed = await s.renew(lease, signal);
    assert.equal(renewed.expiresAt, clock.now() + 30_000, 'a full TTL from the renewal');
    const afterKv = (await etcd.client.get(`${s.subnetsPrefix}${lease.key}`).exec()).kvs[0]!;
    assert.notEqual(afterKv.lease, before);
    const ttl = await etcd.client.leaseClient.leaseTimeToLive({ ID: afterKv.lease });
    assert.ok(Number(ttl.TTL) > 28, `new lease has a full TTL (${ttl.TTL})`);
    const old = await etcd.client.leaseClient.leaseTimeToLive({ ID: before });
    assert.equal(Number(old.TTL), -1, 'old etcd lease revoked');
  });

  test('renewing a lease whose key was deleted is a LeaseRevokedError, and does not recreate it', async () => {
    const s = store('revoked');
    const config = parseNetworkConfig('{"Network":"10.60.0.0/16"}');
    const lease = await s.acquire(config, { attrs: attrs('192.168.5.1') }, signal);
    await etcd.client.delete().key(`${s.subnetsPrefix}${lease.key}`);
    await assert.rejects(s.renew(lease, signal), LeaseRevokedError);
    assert.equal((await s.list(signal)).leases.length, 0);
  });

  test('route statuses are written in batches: 150 puts and 10 deletes in 3 transactions', async () => {
    const s = store('status-batch');
    const key = (i: number) => `10.40.${i}.0-24`;
    for (let i = 0; i < 10; i++) await s.putRouteStatus(key(200 + i), { state: 'programmed', tables: {} }, signal);
    const before = s.requestCounts().txn ?? 0;
    const puts = new Map(Array.from({ length: 150 }, (_, i) => [key(i), { state: 'pending' as const, tables: {}, reason: `n${i}` }]));
    await s.writeRouteStatuses(puts, Array.from({ length: 10 }, (_, i) => key(200 + i)), signal);
    assert.equal((s.requestCounts().txn ?? 0) - before, Math.ceil(160 / ROUTE_STATUS_BATCH));
    const listed = (await s.listRouteStatus(signal)).statuses;
    assert.equal(listed.size, 150);
    assert.deepEqual(listed.get(key(149)), { state: 'pending', tables: {}, reason: 'n149', provider: undefined, updated: undefined });
    assert.equal(listed.has(key(200)), false);
  });

  test('a garbage value is skipped, naming its key; the others still list', async () => {
    const s = store('garbage');
    // SubnetMin keeps the acquisition off 10.70.9.0/24, which the garbage overwrites.
    const config = parseNetworkConfig('{"Network":"10.70.0.0/16","SubnetMin":"10.70.100.0"}');
    await s.acquire(config, { attrs: attrs('192.168.6.1') }, signal);
    await etcd.client.put(`${s.subnetsPrefix}10.70.9.0-24`).value('{not json');
    await etcd.client.put(`${s.subnetsPrefix}not-a-key`).value('{}');
    const snap = await s.list(signal);
    assert.equal(snap.leases.length, 1);
    assert.deepEqual(snap.skipped.map((x) => x.key).sort(), ['10.70.9.0-24', 'not-a-key']);
    assert.match(snap.skipped.find((x) => x.key === '10.70.9.0-24')!.error.message, /lease 10\.70\.9\.0-24.*not JSON/);
  });

  test('a garbage network config is a clear error naming the key', async () => {
    const s = store('badconfig');
    await etcd.client.put(`${s.prefix}/config`).value('{"Network":"10.0.0.0/33"}');
    await assert.rejects(s.getNetworkConfig(signal), (err: unknown) => err instanceof InvalidInputError && /Network.*10\.0\.0\.0\/33/.test(err.message));
    const missing = store('noconfig');
    await assert.rejects(missing.getNetworkConfig(signal), /network config not found/);
  });

  test('compaction during a watch leads to one re-list, not a hot loop', async () => {
    const s = store('compact');
    const config = parseNetworkConfig('{"Network":"10.80.0.0/16"}');
    await s.acquire(config, { attrs: attrs('192.168.7.1') }, signal);
    const snap = await s.list(signal);
    // Write past the snapshot, compact it away, then start watching from the old revision.
    const second = await s.acquire(config, { attrs: attrs('192.168.7.2') }, signal);
    assert.ok(second.revision > snap.revision);
    const later = await etcd.client.put(`${s.prefix}/unrelated`).value('x').exec();
    await etcd.client.kv.compact({ revision: later.header.revision, physical: true });
    const set = new LeaseSet();
    set.reset(snap);
    const events: LeaseEvent[] = [];
    const ac = new AbortController();
    const watching = s.watch({ fromRevision: snap.revision + 1, signal: ac.signal, onEvents: (evs) => { events.push(...evs); set.apply(evs); } });
    await waitFor('the re-list brings the second lease', () => set.size === 2);
    await new Promise((r) => setTimeout(r, 1000));
    ac.abort();
    await watching;
    assert.equal(events.filter((e) => e.type === 'resync').length, 1, 'exactly one re-list');
  });
});

describe('watch across an etcd restart', () => {
  test('resumes from the last revision and misses no event', async () => {
    const etcd = await startEtcd();
    const client = createEtcdClient({ endpoints: [etcd.endpoint] });
    const ac = new AbortController();
    try {
      const s = new EtcdLeaseStore({ client, prefix: uniquePrefix('restart') });
      const config = parseNetworkConfig('{"Network":"10.90.0.0/16"}');
      await s.acquire(config, { attrs: attrs('192.168.8.1') }, signal);
      const set = new LeaseSet();
      const snap = await s.list(signal);
      set.reset(snap);
      const watching = s.watch({ fromRevision: snap.revision + 1, signal: ac.signal, onEvents: (evs) => set.apply(evs), onConnection: (c) => set.setConnected(c) });
      await s.acquire(config, { attrs: attrs('192.168.8.2') }, signal);
      await waitFor('second lease seen', () => set.size === 2);
      await etcd.stop();
      // While etcd is down another writer cannot write; write right after restart, before the watch is back.
      await etcd.restart();
      const writer = createEtcdClient({ endpoints: [etcd.endpoint] });
      const w = new EtcdLeaseStore({ client: writer, prefix: s.prefix });
      for (let i = 3; i <= 6; i++) await w.acquire(config, { attrs: attrs(`192.168.8.${i}`) }, signal);
      await w.list(signal).then(async (all) => {
        const gone = all.leases.find((l) => l.attrs.publicIp === '192.168.8.3')!;
        await writer.delete().key(`${s.subnetsPrefix}${gone.key}`);
      });
      writer.close();
      await waitFor('every put and the delete after the restart are seen', () => set.size === 5, 20_000);
      assert.ok(!set.all().some((l) => l.attrs.publicIp === '192.168.8.3'));
      ac.abort();
      await watching;
    } finally {
      ac.abort();
      client.close();
      await etcd.destroy();
    }
  });
});
