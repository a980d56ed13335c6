// Leader election on `<prefix>/controller/leader` against a real etcd.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Etcd3 } from 'etcd3';
import { EtcdElector } from '../../src/lease/etcd-election.ts';
import { createEtcdClient } from '../../src/lease/index.ts';
import { sharedEtcd, uniquePrefix } from '../support/etcd.ts';

describe('etcd leader election', () => {
  let etcd: Awaited<ReturnType<typeof sharedEtcd>>;
  const clients: Etcd3[] = [];
  before(async () => { etcd = await sharedEtcd(); });
  after(async () => {
    for (const c of clients) c.close();
    await etcd.close();
  });
  const elector = (prefix: string, identity: string, ttlSeconds = 2) => {
    const client = createEtcdClient({ endpoints: [etcd.endpoint] });
    clients.push(client);
    return { client, elector: new EtcdElector({ client, prefix, identity, ttlSeconds }) };
  };

  test('exactly one leads; the key names it; resign hands over at once', async () => {
    const prefix = uniquePrefix('elect');
    const a = elector(prefix, 'a');
    const b = elector(prefix, 'b');
    const ac = new AbortController();
    const la = await a.elector.campaign(ac.signal);
    assert.equal(await b.elector.leader(ac.signal), 'a');
    assert.equal((await a.client.get(`${prefix}/controller/leader`).string()), 'a');
    let bLeads = false;
    const bCampaign = b.elector.campaign(ac.signal).then((l) => { bLeads = true; return l; });
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(bLeads, false, 'the second replica waits');
    const resignedAt = Date.now();
    await la.resign();
    assert.ok(la.lost.aborted);
    const lb = await bCampaign;
    assert.ok(Date.now() - resignedAt < 2000, 'takes over within one poll after resign');
    assert.equal(await a.elector.leader(ac.signal), 'b');
    await lb.resign();
  });

  test('a leader whose key is deleted or whose etcd lease is revoked loses at once; another takes over within the TTL', async () => {
    const prefix = uniquePrefix('elect-lost');
    const a = elector(prefix, 'a', 2);
    const b = elector(prefix, 'b', 2);
    const ac = new AbortController();
    const la = await a.elector.campaign(ac.signal);
    const lostAt = new Promise<number>((resolve) => la.lost.addEventListener('abort', () => resolve(Date.now())));
    // Simulate a SIGKILLed leader: its keepalives stop, so its etcd lease runs out.
    const kv = (await a.client.get(`${prefix}/controller/leader`).exec()).kvs[0]!;
    const start = Date.now();
    const bCampaign = b.elector.campaign(ac.signal);
    await a.client.leaseClient.leaseRevoke({ ID: kv.lease });
    const lb = await bCampaign;
    assert.ok(Date.now() - start < 2000 + 1000, 'new leader within TTL + one poll');
    await lostAt;
    assert.ok(la.lost.aborted, 'the old leader noticed');
    assert.equal(await b.elector.leader(ac.signal), 'b');
    await lb.resign();
  });
});
