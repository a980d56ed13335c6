// One controller per cloud network against a real etcd: route status, heartbeat
// and leadership are scoped per route domain, so an AWS and a GCE controller of one
// cluster never read, overwrite or delete each other's, and both lead at once.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Etcd3 } from 'etcd3';
import { electionScope } from '../../src/controller/election-scope.ts';
import { EtcdElector } from '../../src/lease/etcd-election.ts';
import { EtcdLeaseStore, type PublishedRouteStatus, createEtcdClient } from '../../src/lease/index.ts';
import { sharedEtcd, uniquePrefix } from '../support/etcd.ts';
import { waitFor } from '../support/wait.ts';

const AWS = 'aws:vpc-0abc';
const GCE = 'gce:projects/p/global/networks/n';
const status = (table: string): PublishedRouteStatus => ({ state: 'programmed', tables: { [table]: 'programmed' }, provider: 'test', updated: new Date().toISOString() });

describe('route domain scoping in etcd', () => {
  let etcd: Awaited<ReturnType<typeof sharedEtcd>>;
  let client: Etcd3;
  const signal = new AbortController().signal;
  before(async () => {
    etcd = await sharedEtcd();
    client = createEtcdClient({ endpoints: [etcd.endpoint] });
  });
  after(async () => {
    client.close();
    await etcd.close();
  });

  test('each domain has its own statuses and heartbeat; writing and deleting one never touches the other or the old unscoped keys', async () => {
    const base = new EtcdLeaseStore({ client, prefix: uniquePrefix('scope') });
    const aws = base.routeStatusFor(AWS);
    const gce = base.routeStatusFor(GCE);
    assert.equal(aws.routesPrefix, `${base.prefix}/routes/aws-vpc-0abc/`);
    assert.equal(gce.routesPrefix, `${base.prefix}/routes/gce-p.n/`);
    await base.putRouteStatus('10.244.9.0-24', status('rtb-old'), signal);
    await aws.writeRouteStatuses(new Map([['10.244.1.0-24', status('rtb-1')], ['10.244.3.0-24', status('rtb-1')]]), [], signal);
    await gce.writeRouteStatuses(new Map([['10.244.2.0-24', status('n')]]), [], signal);
    await aws.writeHeartbeat({ observed: new Date().toISOString(), resyncSeconds: 60, provider: 'aws' }, signal);
    const gceWatch = new AbortController();
    const seen: string[] = [];
    const { revision } = await gce.snapshotRouteStatus(signal);
    const watching = gce.watchRouteStatus({
      fromRevision: revision + 1, signal: gceWatch.signal, onResync: () => seen.push('resync'),
      onChange: (key) => seen.push(key), onHeartbeat: () => seen.push('heartbeat'),
    });
    // The AWS controller's next pass: one status gone, the other rewritten, a new heartbeat.
    await aws.writeRouteStatuses(new Map([['10.244.1.0-24', status('rtb-2')]]), ['10.244.3.0-24', '10.244.2.0-24'], signal);
    await aws.writeHeartbeat({ observed: new Date().toISOString(), resyncSeconds: 60, provider: 'aws' }, signal);
    await gce.writeHeartbeat({ observed: new Date().toISOString(), resyncSeconds: 30, provider: 'gce' }, signal);
    await waitFor('the GCE heartbeat seen by the GCE watch', async () => seen.includes('heartbeat'), 5000);
    gceWatch.abort();
    await watching.catch(() => undefined);
    assert.deepEqual(seen, ['heartbeat'], 'the GCE view hears nothing of the AWS domain');
    const [a, g, old] = await Promise.all([aws.listRouteStatus(signal), gce.listRouteStatus(signal), base.listRouteStatus(signal)]);
    assert.deepEqual([...a.statuses.keys()], ['10.244.1.0-24']);
    assert.equal(a.statuses.get('10.244.1.0-24')?.tables['rtb-2'], 'programmed');
    assert.equal(a.heartbeat?.provider, 'aws');
    assert.deepEqual([...g.statuses.keys()], ['10.244.2.0-24'], 'a delete of the same lease key in the AWS domain left the GCE status');
    assert.equal(g.heartbeat?.resyncSeconds, 30);
    assert.deepEqual([...old.statuses.keys()], ['10.244.9.0-24'], 'the unscoped view sees only keys directly under routes/');
    assert.equal(old.heartbeat, undefined);
    assert.equal(old.unreadable.size, 0, 'the domains\' keys are not read as unreadable statuses');
  });

  test('an AWS and a GCE controller both lead; a second one of the same domain waits; an unscoped (old) leader holds both back', async () => {
    const prefix = uniquePrefix('scope-elect');
    const make = (identity: string, scope: string | undefined): EtcdElector => new EtcdElector({ client, prefix, identity, ttlSeconds: 2, scope });
    const old = await make('old', undefined).campaign(signal);
    const awsKey = electionScope('aws', AWS).key;
    const gceKey = electionScope('gce', GCE).key;
    const stop = new AbortController();
    let awsLeads = false;
    const awsCampaign = make('aws-1', awsKey).campaign(stop.signal).then((l) => { awsLeads = true; return l; });
    await new Promise((r) => setTimeout(r, 1200));
    assert.equal(awsLeads, false, 'no scoped leader while a controller from before the scoping leads');
    await old.resign();
    const aws1 = await awsCampaign;
    const gce1 = await make('gce-1', gceKey).campaign(signal);
    assert.equal(await client.get(`${prefix}/controller/leader/aws/aws-vpc-0abc`).string(), 'aws-1');
    assert.equal(await client.get(`${prefix}/controller/leader/gce/gce-p.n`).string(), 'gce-1');
    let second = false;
    const aws2 = make('aws-2', awsKey).campaign(stop.signal).then((l) => { second = true; return l; });
    await new Promise((r) => setTimeout(r, 1200));
    assert.equal(second, false, 'one leader per domain');
    assert.ok(!aws1.lost.aborted && !gce1.lost.aborted, 'both leaders still lead');
    await aws1.resign();
    const taken = await aws2;
    assert.ok(!gce1.lost.aborted, 'the AWS hand-over left the GCE leader alone');
    stop.abort();
    await Promise.all([taken.resign(), gce1.resign()]);
  });
});
