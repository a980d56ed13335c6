// One conformance suite for every lease store (the etcd store and the Kubernetes
// store), the way route-table.ts runs one suite against every cloud: each behaviour is
// written once, a per-store fixture says how another host writes its lease there
// (etcd: a key; Kubernetes: a Node), and a store lists the cases it cannot pass, by
// name, with the reason: they run as named skips. The abilities a store has or lacks
// (allocation, NetworkUnavailable) are found with the guard the agent uses, and the
// gap list must agree with it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { NetworkConfig } from '../../src/config/network.ts';
import { contains, parseCidr } from '../../src/net/cidr.ts';
import type { LeaseAttrs } from '../../src/lease/lease.ts';
import { LeaseSet } from '../../src/lease/lease-set.ts';
import type { PublishedRouteStatus, RouteStatusHeartbeat } from '../../src/lease/route-status.ts';
import type { LeaseEvent, LeaseHolder, LeaseReader, RouteStatusReader, RouteStatusStore } from '../../src/lease/store.ts';
import { waitFor } from '../support/wait.ts';

export type ConformantStore = LeaseReader & LeaseHolder & RouteStatusStore & RouteStatusReader;

/** A Kubernetes-only ability: the agent sets NetworkUnavailable=False on its node. */
interface NetworkAvailability {
  markNetworkAvailable(signal: AbortSignal): Promise<void>;
}

export interface LeaseStoreFixture {
  readonly store: ConformantStore;
  /** Network 10.244.0.0/16, SubnetLen 24. */
  readonly config: NetworkConfig;
  /** Another host's lease on 10.244.<i>.0/24, written as that host would; answers its key. */
  putPeer(i: number, attrs: LeaseAttrs): Promise<string>;
  deletePeer(i: number): Promise<void>;
  /** A write by the peer that changes nothing a lease holds (etcd: a renewal; Kubernetes: status and label churn). */
  touchPeer(i: number): Promise<void>;
  /** Peer i with a PublicIP that does not parse: the skipped key and what its error must name (node/key, field). */
  corruptPeer(i: number): Promise<{ readonly key: string; readonly names: readonly string[] }>;
  /** Makes this host's own lease acquirable (Kubernetes: its Node with a podCIDR); answers the key it will get, if known. */
  prepareOwn(): Promise<string | undefined>;
  /** Writes the fixture's host made to the store so far (etcd: put/txn/delete requests; Kubernetes: non-GET calls). */
  writes(): number;
  /** Full listings the store made so far (etcd: range requests on the subnets; Kubernetes: node lists). */
  lists(): number;
  /** Drops the store's watch connection once (etcd: every connection cut at a proxy; Kubernetes: the emulator ends every watch). */
  dropConnection(): Promise<void>;
  /** Cuts the store off, runs `during` as another writer, compacts history past it, then lets the store back. */
  cutAndCompact(during: () => Promise<void>): Promise<void>;
  /** A reservation (a lease without expiry) for `publicIp` on 10.244.<i>.0/24; only where reservations exist. */
  reserve?(i: number, publicIp: string): Promise<string>;
  /** The own node's NetworkUnavailable condition, [status, reason]; only where nodes exist. */
  networkCondition?(): Promise<[string, string | undefined] | undefined>;
  close(): Promise<void>;
}

export const LEASE_ABILITY_GUARDS = {
  'acquire allocates a free subnet of SubnetLen': (s: ConformantStore): boolean => s.allocates !== false,
  'the agent marks its node NetworkUnavailable=False': (s: ConformantStore): boolean => typeof (s as Partial<NetworkAvailability>).markNetworkAvailable === 'function',
} as const;
type AbilityCase = keyof typeof LEASE_ABILITY_GUARDS;

export const LEASE_CASES = [
  'list returns every valid peer with its attrs; unparseable ones are skipped naming key and field',
  'watch delivers puts, skipped and deletes in order',
  'a write that changes nothing a lease holds makes no event',
  'events written between list and watch are not missed',
  'a dropped connection resumes without a re-list and without loss',
  'history compacted under the watch: one re-list, nothing that exists reported deleted',
  'acquire gives the own lease with the attrs given; renew keeps it',
  'a second acquire with the same attrs writes nothing',
  'route status: written, read back, watched; the same again writes nothing; delete; heartbeat',
  'acquire allocates a free subnet of SubnetLen',
  'a reservation is taken by its PublicIP only and never expires',
  'leases expire and renew extends them',
  'the agent marks its node NetworkUnavailable=False',
] as const;
export type LeaseCaseName = (typeof LEASE_CASES)[number];

const T = 20_000;
const attrsOf = (i: number): LeaseAttrs => ({ publicIp: `192.168.60.${i}`, backendType: 'vxlan', backendData: { VNI: 1, VtepMAC: `02:00:00:00:3c:${i.toString(16).padStart(2, '0')}` } });
/** Attrs as data: fields a store leaves unset and fields it sets to undefined compare equal. */
const plain = (a: LeaseAttrs | undefined): unknown => (a === undefined ? undefined : JSON.parse(JSON.stringify(a)));
const describeEvent = (e: LeaseEvent): string => {
  switch (e.type) {
    case 'put': return `put ${e.lease.key} ${e.lease.attrs.publicIp}`;
    case 'delete': return `delete ${e.key}`;
    case 'skipped': return `skipped ${e.skipped.key}`;
    case 'resync': return 'resync';
  }
};

export function leaseStoreConformance(
  name: string,
  makeFixture: () => Promise<LeaseStoreFixture>,
  knownGaps: Partial<Record<LeaseCaseName, string>> = {},
): void {
  describe(`lease-store conformance: ${name}`, () => {
    let f: LeaseStoreFixture;
    const signal = (): AbortSignal => AbortSignal.timeout(T);
    before(async () => { f = await makeFixture(); });
    after(async () => { await f?.close(); });

    /** Watches from the store's current revision, recording every event, until the returned stop(). */
    const watchFromNow = async (): Promise<{ events: LeaseEvent[]; set: LeaseSet; ours: (keys: readonly string[]) => string[]; stop: () => Promise<void> }> => {
      const snap = await f.store.list(signal());
      const set = new LeaseSet();
      set.reset(snap);
      const events: LeaseEvent[] = [];
      const ac = new AbortController();
      const watching = f.store.watch({ fromRevision: snap.revision + 1, signal: ac.signal, onEvents: (evs) => { events.push(...evs); set.apply(evs); } });
      const keyOf = (e: LeaseEvent): string => (e.type === 'put' ? e.lease.key : e.type === 'delete' ? e.key : e.type === 'skipped' ? e.skipped.key : 'resync');
      return {
        events, set,
        ours: (keys) => events.filter((e) => keys.includes(keyOf(e)) || e.type === 'resync').map(describeEvent),
        stop: async () => { ac.abort(); await watching; },
      };
    };

    const cases: Record<LeaseCaseName, () => Promise<void>> = {
      'list returns every valid peer with its attrs; unparseable ones are skipped naming key and field': async () => {
        const a = await f.putPeer(1, attrsOf(1));
        const b = await f.putPeer(2, { ...attrsOf(2), backendType: 'host-gw', backendData: undefined });
        const bad = await f.corruptPeer(3);
        const snap = await f.store.list(signal());
        const byKey = new Map(snap.leases.map((l) => [l.key, l]));
        assert.deepEqual(plain(byKey.get(a)?.attrs), plain(attrsOf(1)));
        assert.deepEqual(plain(byKey.get(b)?.attrs), { publicIp: '192.168.60.2', backendType: 'host-gw' });
        assert.ok(byKey.get(a)?.subnet && contains(parseCidr('10.244.1.0/24'), byKey.get(a)!.subnet), `${a} is 10.244.1.0/24`);
        assert.equal(byKey.has(bad.key), false, 'the corrupt peer is no lease');
        const skipped = snap.skipped.find((s) => s.key === bad.key);
        assert.ok(skipped, `skipped lists ${bad.key}: ${JSON.stringify(snap.skipped.map((s) => s.key))}`);
        for (const n of bad.names) assert.ok(skipped.error.message.includes(n), `"${skipped.error.message}" names ${n}`);
      },
      'watch delivers puts, skipped and deletes in order': async () => {
        const w = await watchFromNow();
        const a = await f.putPeer(11, attrsOf(11));
        const b = await f.putPeer(12, attrsOf(12));
        const bad = await f.corruptPeer(13);
        await f.putPeer(11, { ...attrsOf(11), publicIp: '192.168.61.11' });
        await f.deletePeer(12);
        const want = [`put ${a} 192.168.60.11`, `put ${b} 192.168.60.12`, `skipped ${bad.key}`, `put ${a} 192.168.61.11`, `delete ${b}`];
        await waitFor('five events', () => w.ours([a, b, bad.key]).length >= want.length, T).catch(() => {});
        await w.stop();
        assert.deepEqual(w.ours([a, b, bad.key]), want);
      },
      'a write that changes nothing a lease holds makes no event': async () => {
        const a = await f.putPeer(21, attrsOf(21));
        await waitFor('the peer in the store\'s view', async () => (await f.store.list(signal())).leases.some((l) => l.key === a), T);
        const w = await watchFromNow();
        await f.touchPeer(21);
        await f.touchPeer(21);
        const marker = await f.putPeer(22, attrsOf(22)); // a later write: once seen, the touches were passed over
        await waitFor('the marker put', () => w.ours([marker]).length === 1, T);
        await w.stop();
        assert.deepEqual(w.ours([a, marker]), [`put ${marker} 192.168.60.22`], 'the touches made no event');
      },
      'events written between list and watch are not missed': async () => {
        const snap = await f.store.list(signal());
        const a = await f.putPeer(31, attrsOf(31));
        const c = await f.putPeer(32, attrsOf(32));
        await f.deletePeer(32);
        const b = await f.putPeer(33, attrsOf(33));
        const set = new LeaseSet();
        set.reset(snap);
        const ac = new AbortController();
        const watching = f.store.watch({ fromRevision: snap.revision + 1, signal: ac.signal, onEvents: (evs) => set.apply(evs) });
        await waitFor('both puts from before the watch', () => set.get(a) && set.get(b), T).finally(async () => { ac.abort(); await watching; });
        assert.equal(set.get(c), undefined, `${c}, put and deleted before the watch, is not there`);
      },
      'a dropped connection resumes without a re-list and without loss': async () => {
        const w = await watchFromNow();
        const lists = f.lists();
        const keys: string[] = [];
        for (let i = 0; i < 3; i++) {
          await f.dropConnection();
          keys.push(await f.putPeer(41 + i, attrsOf(41 + i)));
        }
        await f.deletePeer(41);
        await waitFor('every write across the drops', () => w.ours(keys).length === 4, T).catch(() => {});
        await w.stop();
        assert.deepEqual(w.ours(keys), [...keys.map((k, i) => `put ${k} 192.168.60.${41 + i}`), `delete ${keys[0]}`]);
        assert.equal(f.lists(), lists, 'resumed by revision: no re-list');
      },
      'history compacted under the watch: one re-list, nothing that exists reported deleted': async () => {
        const stay = await f.putPeer(51, attrsOf(51));
        const gone = await f.putPeer(52, attrsOf(52));
        await waitFor('both peers in the store\'s view', async () => (await f.store.list(signal())).leases.filter((l) => [stay, gone].includes(l.key)).length === 2, T);
        const w = await watchFromNow();
        const lists = f.lists();
        let added = '';
        await f.cutAndCompact(async () => {
          added = await f.putPeer(53, attrsOf(53));
          await f.putPeer(51, { ...attrsOf(51), publicIp: '192.168.61.51' });
          await f.deletePeer(52);
        });
        await waitFor('the watcher learns the compacted writes', () => w.set.get(added) && !w.set.get(gone) && w.set.get(stay)?.attrs.publicIp === '192.168.61.51', T);
        await new Promise((r) => setTimeout(r, 500)); // a hot re-list loop would show here
        await w.stop();
        assert.equal(f.lists() - lists, 1, 'exactly one re-list');
        const live = new Set((await f.store.list(signal())).leases.map((l) => l.key));
        const wronglyDeleted = w.events.flatMap((e) => (e.type === 'delete' && live.has(e.key) ? [e.key] : []));
        assert.deepEqual(wronglyDeleted, [], 'no delete for a lease that still exists');
        assert.deepEqual(w.set.all().map((l) => l.key).sort(), [...live].sort(), 'the watcher\'s set is the store\'s');
      },
      'acquire gives the own lease with the attrs given; renew keeps it': async () => {
        const expected = await f.prepareOwn();
        const own = attrsOf(200);
        const lease = await f.store.acquire(f.config, { attrs: own }, signal());
        if (expected !== undefined) assert.equal(lease.key, expected);
        assert.deepEqual(plain(lease.attrs), plain(own));
        // A store's view may trail its own write (Kubernetes: the node informer): wait for it, then compare.
        const listed = await waitFor('the own lease listed', async () => (await f.store.list(signal())).leases.find((l) => l.key === lease.key), T);
        assert.deepEqual(plain(listed.attrs), plain(own), 'peers see the own lease as written');
        const renewed = await f.store.renew(lease, signal());
        assert.equal(renewed.key, lease.key);
        assert.deepEqual(renewed.attrs, lease.attrs);
      },
      'a second acquire with the same attrs writes nothing': async () => {
        await f.prepareOwn();
        const own = attrsOf(200);
        const first = await f.store.acquire(f.config, { attrs: own }, signal());
        const writes = f.writes();
        const again = await f.store.acquire(f.config, { attrs: own }, signal());
        assert.equal(again.key, first.key);
        assert.equal(f.writes(), writes, 'nothing differs, nothing is written');
      },
      'route status: written, read back, watched; the same again writes nothing; delete; heartbeat': async () => {
        const a = await f.putPeer(61, attrsOf(61));
        const b = await f.putPeer(62, attrsOf(62));
        await waitFor('both peers in the store\'s view', async () => {
          const keys = (await f.store.list(signal())).leases.map((l) => l.key);
          return keys.includes(a) && keys.includes(b);
        }, T);
        const snap = await f.store.snapshotRouteStatus(signal());
        const seen = new Map<string, string | undefined>();
        const beats: (RouteStatusHeartbeat | undefined)[] = [];
        const ac = new AbortController();
        const watching = f.store.watchRouteStatus({
          fromRevision: snap.revision + 1, signal: ac.signal,
          onChange: (k, s) => seen.set(k, s?.state), onHeartbeat: (hb) => beats.push(hb), onResync: () => assert.fail('no resync expected'),
        });
        try {
          const programmed: PublishedRouteStatus = { state: 'programmed', tables: { 'rtb-1': 'programmed' }, provider: 'aws', updated: new Date().toISOString() };
          const pending: PublishedRouteStatus = { state: 'pending', tables: { 'rtb-1': 'pending' }, provider: 'aws', updated: programmed.updated };
          await f.store.writeRouteStatuses(new Map([[a, programmed], [b, pending]]), [], signal());
          // Read back through the store's own view, which may trail its write (Kubernetes: the node informer).
          const read = await waitFor('both statuses read back', async () => {
            const r = await f.store.listRouteStatus(signal());
            return r.statuses.has(a) && r.statuses.has(b) && r;
          }, T);
          assert.equal(read.statuses.get(a)?.state, 'programmed');
          assert.deepEqual(read.statuses.get(a)?.tables, { 'rtb-1': 'programmed' });
          assert.equal(read.statuses.get(b)?.state, 'pending');
          await waitFor('both statuses watched', () => seen.get(a) === 'programmed' && seen.get(b) === 'pending', T);
          const writes = f.writes();
          await f.store.writeRouteStatuses(new Map([[a, { ...programmed, updated: new Date(Date.now() + 1000).toISOString() }]]), [], signal());
          assert.equal(f.writes(), writes, 'the same status (newer `updated`) is not written');
          await f.store.writeRouteStatuses(new Map(), [b], signal());
          await waitFor('the deleted status watched', () => seen.has(b) && seen.get(b) === undefined, T);
          await waitFor('the deleted status gone from the listing', async () => !(await f.store.listRouteStatus(signal())).statuses.has(b), T);
          const heartbeat = { observed: new Date().toISOString(), resyncSeconds: 60, provider: 'aws' };
          await f.store.writeHeartbeat(heartbeat, signal());
          await waitFor('the heartbeat watched', () => beats.length > 0, T);
          assert.equal(beats.at(-1)?.observed, heartbeat.observed);
          await waitFor('the heartbeat listed', async () => (await f.store.listRouteStatus(signal())).heartbeat?.observed === heartbeat.observed, T);
        } finally {
          ac.abort();
          await watching;
        }
      },
      'acquire allocates a free subnet of SubnetLen': async () => {
        const peers = await f.putPeer(71, attrsOf(71));
        const lease = await f.store.acquire(f.config, { attrs: attrsOf(171) }, signal());
        assert.equal(lease.subnet.prefix, 24);
        assert.ok(contains(parseCidr('10.244.0.0/16'), lease.subnet), 'inside Network');
        assert.notEqual(lease.key, peers, 'not a peer\'s subnet');
        assert.equal(lease.reservation, false);
      },
      'a reservation is taken by its PublicIP only and never expires': async () => {
        const key = await f.reserve!(81, '192.168.60.181');
        const other = await f.store.acquire(f.config, { attrs: attrsOf(182) }, signal());
        assert.notEqual(other.key, key, 'another host never takes a reservation');
        const owner = await f.store.acquire(f.config, { attrs: attrsOf(181) }, signal());
        assert.equal(owner.key, key);
        assert.equal(owner.reservation, true);
        assert.equal(owner.expiresAt, undefined);
      },
      'leases expire and renew extends them': async () => {
        const lease = await f.store.acquire(f.config, { attrs: attrsOf(191) }, signal());
        assert.ok(lease.expiresAt !== undefined && lease.expiresAt > Date.now(), 'the own lease says when it expires');
        await new Promise((r) => setTimeout(r, 20));
        const renewed = await f.store.renew(lease, signal());
        assert.ok(renewed.expiresAt! > lease.expiresAt, 'renew moves expiry on');
      },
      'the agent marks its node NetworkUnavailable=False': async () => {
        await f.prepareOwn();
        await (f.store as ConformantStore & NetworkAvailability).markNetworkAvailable(signal());
        const [status, reason] = (await f.networkCondition!()) ?? [];
        assert.equal(status, 'False', 'NetworkUnavailable=False on the own node');
        assert.ok(reason, 'with the reason that says who set it');
      },
    };

    for (const caseName of LEASE_CASES) {
      const gap = knownGaps[caseName];
      test(caseName, gap ? { skip: `known gap: ${gap}` } : {}, cases[caseName]);
    }
    test('the abilities it has are exactly those not listed as gaps', () => {
      for (const [caseName, guard] of Object.entries(LEASE_ABILITY_GUARDS) as [AbilityCase, (s: ConformantStore) => boolean][]) {
        const has = guard(f.store);
        assert.equal(has, knownGaps[caseName] === undefined, has
          ? `${name} can do "${caseName}" but lists it as a gap`
          : `${name} cannot do "${caseName}" (its guard says no): list it as a known gap, with the reason`);
      }
    });
  });
}
