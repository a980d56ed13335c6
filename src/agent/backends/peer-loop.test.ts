import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import type { Lease } from '../../lease/lease.ts';
import { testLease } from '../../lease/testing.ts';
import { parseCidr } from '../../net/cidr.ts';
import { createLogger } from '../../observe/log.ts';
import { KernelApplyError, type KernelObject, type KernelReconciler, describeObject, objectKey } from '../../kernel/index.ts';
import { PeerLoop } from './peer-loop.ts';
import { vxlanPeerObjects } from './vxlan-peer.ts';

type Request = Parameters<KernelReconciler['reconcile']>[0];
const objectsOf = (req: Request | undefined): KernelObject[] => {
  if (req === undefined) return [];
  return Array.isArray(req.desired) ? [...(req.desired as readonly KernelObject[])] : [...(req.desired as ReadonlyMap<string, KernelObject>).values()];
};

function lease(n: number, over: Partial<Lease['attrs']> = {}): Lease {
  return testLease({ subnet: `10.5.${n}.0/24`, publicIp: `192.168.1.${n}`, backendData: { VNI: 1, VtepMAC: `0e:00:00:00:00:0${n}` }, ...over });
}

function harness(opts: { fail?: boolean } = {}) {
  const requests: Request[] = [];
  const logs: Array<{ level: number; msg: string; lease?: string; field?: string }> = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) if (line) logs.push(JSON.parse(line) as (typeof logs)[number]);
      cb();
    },
  });
  const loop = new PeerLoop({
    backendType: 'vxlan',
    log: createLogger({ destination, level: 'debug' }),
    own: { subnet: parseCidr('10.5.1.0/24') },
    objectsFor: (l) => vxlanPeerObjects(l, { v4: { device: 'flannel.1' } }),
    reconciler: {
      reconcile: async (req) => {
        requests.push(req);
        const object = objectsOf(req)[0];
        if (object === undefined) return { observed: req.observe === true, changes: [], failed: [], deferred: 0 };
        const change = { action: 'add' as const, object, key: objectKey(object) };
        return { observed: req.observe === true, changes: [change], failed: opts.fail ? [{ change, error: 'RTNETLINK answers: Invalid argument' }] : [], deferred: 0 };
      },
    },
  });
  const signal = new AbortController().signal;
  return { loop, requests, logs, signal };
}

const dsts = (req: Request | undefined): string[] => objectsOf(req).filter((o) => o.kind === 'route').map(describeObject);

describe('PeerLoop', () => {
  it('turns every peer into its objects and passes observe through', async () => {
    const h = harness();
    await h.loop.reconcile([lease(2), lease(3)], h.signal, true);
    assert.equal(objectsOf(h.requests[0]).length, 6);
    assert.equal(h.requests[0]!.observe, true);
    assert.deepEqual(dsts(h.requests[0]), ['route 10.5.2.0/24 via 10.5.2.0 dev flannel.1 onlink', 'route 10.5.3.0/24 via 10.5.3.0 dev flannel.1 onlink']);
  });

  it('never treats its own lease as a peer', async () => {
    const h = harness();
    await h.loop.reconcile([lease(1), lease(2)], h.signal, false);
    assert.deepEqual(dsts(h.requests[0]), ['route 10.5.2.0/24 via 10.5.2.0 dev flannel.1 onlink']);
  });

  it('ignores peers of another BackendType with ONE log line per peer, not per resync', async () => {
    const h = harness();
    const peers = [lease(2), lease(3, { backendType: 'host-gw' })];
    for (let i = 0; i < 3; i++) await h.loop.reconcile(peers, h.signal, true);
    assert.deepEqual(dsts(h.requests[2]), ['route 10.5.2.0/24 via 10.5.2.0 dev flannel.1 onlink']);
    const ignored = h.logs.filter((l) => l.lease === '10.5.3.0-24');
    assert.equal(ignored.length, 1);
    assert.match(ignored[0]!.msg, /not vxlan/);
  });

  it('skips a peer with a bad VtepMAC, warns once naming the lease key and field, keeps the others', async () => {
    const h = harness();
    const peers = [lease(2), lease(3, { backendData: { VNI: 1, VtepMAC: 'not-a-mac' } }), lease(4)];
    await h.loop.reconcile(peers, h.signal, false);
    await h.loop.reconcile(peers, h.signal, true);
    assert.deepEqual(dsts(h.requests[1]), ['route 10.5.2.0/24 via 10.5.2.0 dev flannel.1 onlink', 'route 10.5.4.0/24 via 10.5.4.0 dev flannel.1 onlink']);
    const warnings = h.logs.filter((l) => l.level === 40);
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]!.lease, '10.5.3.0-24');
    assert.equal(warnings[0]!.field, 'lease 10.5.3.0-24.BackendData.VtepMAC');
    // Fail static: whatever already worked for the bad lease is kept.
    assert.deepEqual([...h.requests[1]!.retainDsts ?? []], ['10.5.3.0/24']);
  });

  it('warns again when a lease\'s problem changes', async () => {
    const h = harness();
    await h.loop.reconcile([lease(3, { backendData: { VNI: 1 } })], h.signal, false);
    await h.loop.reconcile([lease(3, { backendData: { VNI: 1, VtepMAC: 'x' } })], h.signal, false);
    assert.equal(h.logs.filter((l) => l.level === 40).length, 2);
  });

  it('skips the second of two peers that claim the same VTEP MAC, and says which', async () => {
    const h = harness();
    await h.loop.reconcile([lease(2), lease(3, { backendData: { VtepMAC: '0e:00:00:00:00:02' } })], h.signal, false);
    assert.deepEqual(dsts(h.requests[0]), ['route 10.5.2.0/24 via 10.5.2.0 dev flannel.1 onlink']);
    const warning = h.logs.find((l) => l.level === 40);
    assert.equal(warning?.lease, '10.5.3.0-24');
  });

  it('rejects with KernelApplyError naming what the kernel refused', async () => {
    const h = harness({ fail: true });
    await assert.rejects(h.loop.reconcile([lease(2)], h.signal, false), (err: unknown) =>
      err instanceof KernelApplyError && err.failed.length === 1 && /fdb 0e:00:00:00:00:02.*Invalid argument/.test(err.message));
  });
});
