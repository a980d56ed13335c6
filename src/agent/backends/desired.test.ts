import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Lease } from '../../lease/lease.ts';
import { testLease } from '../../lease/testing.ts';
import { type KernelObject, objectKey } from '../../kernel/index.ts';
import { DesiredObjects, type PeerContribution } from './desired.ts';

const lease = (n: number, mac = `0e:00:00:00:00:0${n}`): Lease =>
  testLease({ subnet: `10.5.${n}.0/24`, publicIp: `192.168.1.${n}`, backendData: { VtepMAC: mac }, revision: n });

/** Two objects per lease: a route and an fdb entry keyed by the lease's MAC (so MACs can clash). */
function contribution(l: Lease): PeerContribution {
  const mac = (l.attrs.backendData as { VtepMAC: string }).VtepMAC;
  const objects: KernelObject[] = [
    { kind: 'route', dst: l.key.replace('-', '/'), via: l.key.split('-')[0]!, dev: 'flannel.1', onlink: true },
    { kind: 'fdb', dev: 'flannel.1', mac, dst: l.attrs.publicIp },
  ];
  return { entries: objects.map((o) => [objectKey(o), o] as const), retain: [] };
}

const sorted = (keys: Iterable<string> | undefined): string[] => [...(keys ?? [])].sort();

describe('DesiredObjects', () => {
  it('first update: every object is touched', () => {
    const d = new DesiredObjects();
    const r = d.update([lease(2), lease(3)], contribution);
    assert.deepEqual(sorted(r.touched), sorted(d.objects.keys()));
    assert.equal(d.objects.size, 4);
  });

  it('unchanged lease objects touch nothing and are not asked again', () => {
    const d = new DesiredObjects();
    const peers = [lease(2), lease(3)];
    d.update(peers, contribution);
    let asked = 0;
    const r = d.update(peers, (l) => { asked += 1; return contribution(l); });
    assert.deepEqual(sorted(r.touched), []);
    assert.equal(asked, 0);
  });

  it('an added lease touches only its own keys', () => {
    const d = new DesiredObjects();
    const peers = [lease(2), lease(3)];
    d.update(peers, contribution);
    const r = d.update([...peers, lease(4)], contribution);
    assert.deepEqual(sorted(r.touched), ['fdb flannel.1 0e:00:00:00:00:04', 'route 10.5.4.0/24']);
  });

  it('a removed lease touches its keys, drops its objects and is reported', () => {
    const d = new DesiredObjects();
    const peers = [lease(2), lease(3)];
    d.update(peers, contribution);
    const r = d.update([peers[0]!], contribution);
    assert.deepEqual(sorted(r.touched), ['fdb flannel.1 0e:00:00:00:00:03', 'route 10.5.3.0/24']);
    assert.deepEqual(r.removed, ['10.5.3.0-24']);
    assert.equal(d.objects.has('route 10.5.3.0/24'), false);
  });

  it('a changed lease (new object) touches its old and new keys only', () => {
    const d = new DesiredObjects();
    const two = lease(2);
    d.update([two, lease(3)], contribution);
    const r = d.update([two, lease(3, '0e:00:00:00:00:33')], contribution);
    assert.deepEqual(sorted(r.touched), ['fdb flannel.1 0e:00:00:00:00:03', 'fdb flannel.1 0e:00:00:00:00:33', 'route 10.5.3.0/24']);
    assert.equal(d.objects.has('fdb flannel.1 0e:00:00:00:00:03'), false);
  });

  it('a lease whose objects another lease already has is skipped and reported; the first keeps them', () => {
    const d = new DesiredObjects();
    const r = d.update([lease(2), lease(3, '0e:00:00:00:00:02')], contribution);
    assert.deepEqual(r.clashes, [{ lease: '10.5.3.0-24', other: '10.5.2.0-24' }]);
    assert.deepEqual(d.objects.get('fdb flannel.1 0e:00:00:00:00:02'), { kind: 'fdb', dev: 'flannel.1', mac: '0e:00:00:00:00:02', dst: '192.168.1.2' });
    assert.equal(d.objects.has('route 10.5.3.0/24'), false);
  });

  it('`all` asks about every lease again (what a lease needs changed) and reports removals', () => {
    const d = new DesiredObjects();
    const peers = [lease(2), lease(3)];
    d.update(peers, contribution);
    let asked = 0;
    const r = d.update([peers[1]!], (l) => { asked += 1; return contribution(l); }, { all: true });
    assert.equal(asked, 1);
    assert.deepEqual(r.removed, ['10.5.2.0-24']);
    assert.deepEqual(sorted(d.objects.keys()), ['fdb flannel.1 0e:00:00:00:00:03', 'route 10.5.3.0/24']);
  });

  it('`retryClashes` gives a skipped lease its objects once the lease that held them is gone', () => {
    const d = new DesiredObjects();
    const [two, three] = [lease(2), lease(3, '0e:00:00:00:00:02')];
    d.update([two, three], contribution);
    assert.equal(d.objects.has('route 10.5.3.0/24'), false);
    d.update([three], contribution);
    assert.equal(d.objects.has('route 10.5.3.0/24'), false, 'an event does not look at unchanged leases');
    const r = d.update([three], contribution, { retryClashes: true });
    assert.deepEqual(r.clashes, []);
    assert.equal(d.objects.has('route 10.5.3.0/24'), true);
  });

  it('retain destinations come from the current contributions only', () => {
    const d = new DesiredObjects();
    const withRetain = (l: Lease): PeerContribution => ({ entries: [], retain: [l.key.replace('-', '/')] });
    d.update([lease(2)], withRetain);
    assert.deepEqual([...d.retainDsts()], ['10.5.2.0/24']);
    d.update([], withRetain);
    assert.deepEqual([...d.retainDsts()], []);
  });
});
