// The AWS provider against the EC2 emulator through the real SDK: several tables,
// multi-interface hosts, SourceDestCheck, blackholes, foreign routes, IPv6,
// host lookups, and typed errors.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConflictError, InvalidInputError, NotFoundError, NotOwnedError, QuotaExceededError } from '../../../src/errors.ts';
import { manualClock } from '../../emulators/aws-ec2/testkit.ts';
import { kubernetesClusterTag, tartanClusterTag } from '../../../providers/aws/index.ts';
import { type World, startWorld } from './testkit.ts';
import { routesTo } from '../../../providers/route-table.ts';

const signal = new AbortController().signal;

describe('managed tables', () => {
  let w: World;
  before(async () => { w = await startWorld({ pageSizeCap: 5 }); });
  after(async () => { await w.close(); });

  test('every table with the tag, across pages, in the VPC only', async () => {
    const { admin } = w.emulator;
    const east: string[] = [];
    for (let i = 0; i < 7; i++) east.push((await admin.seedRouteTable({ vpcId: w.vpcId, tags: { 'tartan.io/cluster': 'east', Name: `east-${i}` } })).id);
    await admin.seedRouteTable({ vpcId: w.vpcId, tags: { 'tartan.io/cluster': 'west' } });
    const otherVpc = (await admin.seedVpc({ cidr: '172.20.0.0/16' })).id;
    await admin.seedRouteTable({ vpcId: otherVpc, tags: { 'tartan.io/cluster': 'east' } });
    const p = w.provider({ routeTables: { tag: tartanClusterTag('east') }, vpcId: w.vpcId });
    const tables = await p.tables(signal);
    assert.deepEqual(tables.map((t) => t.id), east);
    assert.equal(tables[0]!.name, 'east-0');
    assert.equal(p.calls().DescribeRouteTables?.ok, 2, 'seven tables in pages of five');
  });

  test('the kubernetes.io/cluster/<name> tag, whatever its value', async () => {
    const { admin } = w.emulator;
    const ids = [
      (await admin.seedRouteTable({ vpcId: w.vpcId, tags: { 'kubernetes.io/cluster/blue': 'owned' } })).id,
      (await admin.seedRouteTable({ vpcId: w.vpcId, tags: { 'kubernetes.io/cluster/blue': 'shared' } })).id,
    ];
    const p = w.provider({ routeTables: { tag: kubernetesClusterTag('blue') } });
    assert.deepEqual((await p.tables(signal)).map((t) => t.id), ids);
  });

  test('explicit ids must all exist', async () => {
    const id = (await w.emulator.admin.seedRouteTable({ vpcId: w.vpcId })).id;
    assert.deepEqual((await w.provider({ routeTables: { ids: [id] } }).tables(signal)).map((t) => t.id), [id]);
    await assert.rejects(w.provider({ routeTables: { ids: [id, 'rtb-0000000000000dead'] } }).tables(signal), NotFoundError);
  });

  test('routes go to every managed table; one rate limit and one host cache serve them all', async () => {
    const { admin } = w.emulator;
    const a = (await admin.seedRouteTable({ vpcId: w.vpcId, tags: { 'tartan.io/cluster': 'multi' } })).id;
    const b = (await admin.seedRouteTable({ vpcId: w.vpcId, tags: { 'tartan.io/cluster': 'multi' } })).id;
    const host = await admin.seedInstance({ vpcId: w.vpcId, privateIp: '192.168.7.7' });
    const p = w.provider({ routeTables: { tag: tartanClusterTag('multi') } });
    const hop = (await p.resolveHosts([{ publicIp: '192.168.7.7' }], signal)).get('192.168.7.7')!;
    for (const t of await p.tables(signal)) await p.createRoute(t.id, { destination: '10.244.7.0/24', nextHop: hop }, signal);
    for (const t of [a, b]) {
      assert.deepEqual((await p.listRoutes(t, signal)).owned.map((r) => [r.destination, r.nextHop]), [['10.244.7.0/24', { kind: 'instance', id: host.id }]]);
    }
    assert.equal(p.calls().DescribeInstances?.ok, 1, 'listing reused what resolveHosts learned');
  });
});

describe('hosts', () => {
  let w: World;
  let table: string;
  before(async () => {
    w = await startWorld();
    table = (await w.emulator.admin.seedRouteTable({ vpcId: w.vpcId })).id;
  });
  after(async () => { await w.close(); });

  test('a host with several interfaces is routed by the interface that carries its address', async () => {
    const { admin } = w.emulator;
    const single = await admin.seedInstance({ vpcId: w.vpcId, privateIp: '192.168.1.10' });
    const multi = await admin.seedInstance({ vpcId: w.vpcId, enis: [{ privateIps: ['192.168.1.20'] }, { privateIps: ['192.168.2.20', '192.168.2.21'] }] });
    const p = w.provider({ routeTables: { ids: [table] } });
    const hops = await p.resolveHosts([{ publicIp: '192.168.1.10' }, { publicIp: '192.168.1.20' }, { publicIp: '192.168.2.21' }], signal);
    assert.deepEqual(Object.fromEntries(hops), {
      '192.168.1.10': { kind: 'instance', id: single.id },
      '192.168.1.20': { kind: 'eni', id: multi.enis[0]!.id },
      '192.168.2.21': { kind: 'eni', id: multi.enis[1]!.id },
    });
    await p.createRoute(table, { destination: '10.244.20.0/24', nextHop: hops.get('192.168.1.20')! }, signal);
    await assert.rejects(p.createRoute(table, { destination: '10.244.21.0/24', nextHop: { kind: 'instance', id: multi.id } }, signal),
      (err: unknown) => err instanceof InvalidInputError && err.field === 'nextHop');
    // A fresh provider knows no host: the listing names the route's instance and
    // interface, so it matches the hop resolve gives, with no DescribeInstances.
    const fresh = w.provider({ routeTables: { ids: [table] } });
    const listed = (await fresh.listRoutes(table, signal)).owned.find((r) => r.destination === '10.244.20.0/24')!;
    assert.deepEqual(listed.nextHop, { kind: 'instance', id: multi.id });
    assert.equal(routesTo(listed, hops.get('192.168.1.20')), true);
    assert.equal(routesTo(listed, hops.get('192.168.2.21')), false);
    assert.deepEqual(fresh.calls().DescribeInstances, undefined);
  });

  test('resolveHosts: one paged DescribeInstances per 200 addresses, running instances only, cached briefly', async () => {
    const { admin } = w.emulator;
    const clock = manualClock();
    for (let i = 0; i < 250; i++) await admin.seedInstance({ vpcId: w.vpcId, privateIp: `192.168.${100 + Math.floor(i / 200)}.${i % 200}` });
    await admin.seedInstance({ vpcId: w.vpcId, privateIp: '192.168.103.1', state: 'stopped' });
    const hosts = Array.from({ length: 250 }, (_, i) => ({ publicIp: `192.168.${100 + Math.floor(i / 200)}.${i % 200}` }));
    const asked = [...hosts, { publicIp: '192.168.103.1' }, { publicIp: '10.99.0.1' }, { publicIp: 'not-an-ip' }, { publicIp: 'fd00::1' }];
    const p = w.provider({ routeTables: { ids: [table] }, clock, hostCacheTtlMs: 30_000 });
    const since = Date.now();
    const first = await p.resolveHosts(asked, signal);
    assert.equal(first.size, 250);
    assert.equal(first.has('192.168.103.1'), false, 'stopped');
    assert.equal(first.has('10.99.0.1'), false, 'unknown');
    const calls = (await admin.calls({ since })).filter((c) => c.action === 'DescribeInstances');
    assert.deepEqual(calls.map((c) => Object.keys(c.params).filter((k) => k.startsWith('Filter.1.Value.')).length), [200, 52]);
    assert.ok(calls.every((c) => c.params['Filter.1.Name'] === 'network-interface.addresses.private-ip-address' && c.params['Filter.2.Name'] === 'instance-state-name' && c.params['Filter.2.Value.1'] === 'running'));
    await p.resolveHosts(asked, signal);
    assert.equal(p.calls().DescribeInstances?.ok, 2, 'the second lookup was served from the cache');
    clock.advance(30_001);
    await p.resolveHosts(hosts.slice(0, 3), signal);
    assert.equal(p.calls().DescribeInstances?.ok, 3, 'stale entries are looked up again');
  });

  test('SourceDestCheck is turned off only where DescribeInstances shows it on: the instance attribute, or a secondary interface its own', async () => {
    const { admin } = w.emulator;
    const on = await admin.seedInstance({ vpcId: w.vpcId, privateIp: '192.168.3.1' });
    const off = await admin.seedInstance({ vpcId: w.vpcId, privateIp: '192.168.3.2', sourceDestCheck: false });
    const multi = await admin.seedInstance({ vpcId: w.vpcId, enis: [{ privateIps: ['192.168.3.3'] }, { privateIps: ['192.168.4.3'] }] });
    const p = w.provider({ routeTables: { ids: [table] } });
    const hops = [
      { kind: 'instance' as const, id: on.id }, { kind: 'instance' as const, id: off.id },
      { kind: 'eni' as const, id: multi.enis[0]!.id }, { kind: 'eni' as const, id: multi.enis[1]!.id },
      { kind: 'instance' as const, id: on.id }, { kind: 'instance' as const, id: 'i-0000000000000dead' },
    ];
    const since = Date.now();
    const first = await p.prepareHosts(hops, signal);
    assert.deepEqual(first.map((r) => r.result), ['changed', 'ok', 'changed', 'changed', 'changed', 'unfixable']);
    const calls = await admin.calls({ since });
    const modified = calls.filter((c) => c.action === 'ModifyInstanceAttribute');
    assert.deepEqual(modified.map((c) => [c.params.InstanceId, c.params['SourceDestCheck.Value']]), [[on.id, 'false'], [multi.id, 'false']]);
    const perInterface = calls.filter((c) => c.action === 'ModifyNetworkInterfaceAttribute');
    assert.deepEqual(perInterface.map((c) => [c.params.NetworkInterfaceId, c.params['SourceDestCheck.Value']]), [[multi.enis[1]!.id, 'false']]);
    assert.equal((await admin.instance({ instanceId: on.id })).sourceDestCheck, false);
    assert.deepEqual((await admin.instance({ instanceId: multi.id })).enis.map((e) => e.sourceDestCheck), [false, false]);
    const again = await p.prepareHosts(hops, signal);
    assert.deepEqual(again.map((r) => r.result), ['ok', 'ok', 'ok', 'ok', 'ok', 'unfixable']);
    assert.equal(p.calls().ModifyInstanceAttribute?.ok, 2, 'no ModifyInstanceAttribute where the check is already off');
    assert.equal(p.calls().ModifyNetworkInterfaceAttribute?.ok, 1);
  });

  test('preparing hosts just resolved needs no second DescribeInstances', async () => {
    const { admin } = w.emulator;
    const a = await admin.seedInstance({ vpcId: w.vpcId, privateIp: '192.168.5.1' });
    const b = await admin.seedInstance({ vpcId: w.vpcId, privateIp: '192.168.5.2', sourceDestCheck: false });
    const p = w.provider({ routeTables: { ids: [table] } });
    const hops = await p.resolveHosts([{ publicIp: '192.168.5.1' }, { publicIp: '192.168.5.2' }], signal);
    assert.equal(p.calls().DescribeInstances?.ok, 1);
    const prepared = await p.prepareHosts([...hops.values()], signal);
    assert.deepEqual(prepared.map((r) => [r.nextHop.id, r.result]), [[a.id, 'changed'], [b.id, 'ok']]);
    assert.equal(p.calls().DescribeInstances?.ok, 1, 'SourceDestCheck read from the resolve describe');
  });
});

describe('routes', () => {
  let w: World;
  let table: string;
  let hostA: { id: string };
  let hostB: { id: string };
  before(async () => {
    w = await startWorld();
    table = (await w.emulator.admin.seedRouteTable({ vpcId: w.vpcId })).id;
    hostA = await w.emulator.admin.seedInstance({ vpcId: w.vpcId, privateIp: '192.168.0.1' });
    hostB = await w.emulator.admin.seedInstance({ vpcId: w.vpcId, privateIp: '192.168.0.2' });
  });
  after(async () => { await w.close(); });
  const hop = (h: { id: string }) => ({ kind: 'instance' as const, id: h.id });

  test("a terminated host's route is reported blackhole, can be replaced, and deleted", async () => {
    const doomed = await w.emulator.admin.seedInstance({ vpcId: w.vpcId, privateIp: '192.168.0.9' });
    const p = w.provider({ routeTables: { ids: [table] } });
    await p.createRoute(table, { destination: '10.244.9.0/24', nextHop: hop(doomed) }, signal);
    await w.emulator.admin.terminateInstance({ instanceId: doomed.id });
    const dead = (await p.listRoutes(table, signal)).owned.find((r) => r.destination === '10.244.9.0/24');
    assert.deepEqual(dead, {
      table, destination: '10.244.9.0/24', nextHop: hop(doomed), nextHopAliases: [{ kind: 'eni', id: doomed.enis[0]!.id }], state: 'blackhole', owned: true,
    });
    await p.replaceRoute(table, { destination: '10.244.9.0/24', nextHop: hop(hostA) }, signal);
    const revived = (await p.listRoutes(table, signal)).owned.find((r) => r.destination === '10.244.9.0/24')!;
    assert.equal(revived.state, 'active');
    await p.deleteRoute(table, revived, signal);
    assert.equal((await p.listRoutes(table, signal)).owned.some((r) => r.destination === '10.244.9.0/24'), false);
  });

  test('foreign routes overlapping the Network are reported, never owned, never deleted or overwritten', async () => {
    const { admin } = w.emulator;
    await admin.seedRoute({ routeTableId: table, destination: '10.244.30.0/24', target: { vpcPeeringConnectionId: 'pcx-0abc' } });
    await admin.seedRoute({ routeTableId: table, destination: '10.244.31.0/24', target: { gatewayId: 'vgw-0abc' }, origin: 'EnableVgwRoutePropagation' });
    await admin.seedRoute({ routeTableId: table, destination: '10.0.0.0/8', target: { gatewayId: 'igw-0abc' } });
    await admin.seedRoute({ routeTableId: table, destination: '172.31.5.0/24', target: { instanceId: hostA.id } });
    const p = w.provider({ routeTables: { ids: [table] } });
    const listing = await p.listRoutes(table, signal);
    assert.deepEqual(listing.foreign.map((r) => [r.destination, r.owned]).sort(), [['10.0.0.0/8', false], ['10.244.30.0/24', false], ['10.244.31.0/24', false]]);
    assert.equal([...listing.owned, ...listing.foreign].some((r) => r.destination === '172.31.5.0/24'), false, 'outside the Network: not reported');
    const since = Date.now();
    for (const f of listing.foreign) await assert.rejects(p.deleteRoute(table, { ...f, owned: true }, signal), NotOwnedError);
    await assert.rejects(p.createRoute(table, { destination: '10.244.30.0/24', nextHop: hop(hostA) }, signal), ConflictError);
    await assert.rejects(p.replaceRoute(table, { destination: '10.244.30.0/24', nextHop: hop(hostA) }, signal), NotOwnedError);
    assert.deepEqual((await admin.calls({ since })).filter((c) => ['DeleteRoute', 'ReplaceRoute'].includes(c.action)), []);
  });

  test('a route turned foreign since it was listed is not deleted', async () => {
    const p = w.provider({ routeTables: { ids: [table] } });
    await p.createRoute(table, { destination: '10.244.40.0/24', nextHop: hop(hostA) }, signal);
    const listed = (await p.listRoutes(table, signal)).owned.find((r) => r.destination === '10.244.40.0/24')!;
    await w.emulator.admin.seedRoute({ routeTableId: table, destination: '10.244.40.0/24', target: { vpcPeeringConnectionId: 'pcx-0def' } });
    await assert.rejects(p.deleteRoute(table, listed, signal), NotOwnedError);
    assert.equal(p.calls().DeleteRoute, undefined);
    assert.ok((await w.emulator.admin.routes({ routeTableId: table })).some((r) => r.destination === '10.244.40.0/24'));
  });

  test('creating the same route twice is fine; another next hop is a conflict', async () => {
    const p = w.provider({ routeTables: { ids: [table] } });
    await p.createRoute(table, { destination: '10.244.50.0/24', nextHop: hop(hostA) }, signal);
    await p.createRoute(table, { destination: '10.244.50.0/24', nextHop: hop(hostA) }, signal);
    await assert.rejects(p.createRoute(table, { destination: '10.244.50.0/24', nextHop: hop(hostB) }, signal), ConflictError);
    assert.deepEqual(p.calls().CreateRoute, { ok: 1, conflict: 2 });
  });

  test('IPv6 destinations, and capacity per family', async () => {
    const t = (await w.emulator.admin.seedRouteTable({ vpcId: w.vpcId, quota: 2 })).id;
    const p = w.provider({ routeTables: { ids: [t] }, clusterNetworks: ['10.244.0.0/16', 'fd00:10:244::/48'], routeQuota: 2 });
    await p.createRoute(t, { destination: 'fd00:10:244:1::/64', nextHop: hop(hostA) }, signal);
    await p.createRoute(t, { destination: 'fd00:10:244:2::/64', nextHop: hop(hostB) }, signal);
    await p.createRoute(t, { destination: '10.244.1.0/24', nextHop: hop(hostA) }, signal);
    assert.deepEqual(await p.capacity(t, signal), { quota: 2, used: 2 });
    const owned = (await p.listRoutes(t, signal)).owned;
    assert.deepEqual(owned.map((r) => r.destination).sort(), ['10.244.1.0/24', 'fd00:10:244:1::/64', 'fd00:10:244:2::/64']);
    await assert.rejects(p.createRoute(t, { destination: 'fd00:10:244:3::/64', nextHop: hop(hostA) }, signal), QuotaExceededError);
    await p.createRoute(t, { destination: '10.244.2.0/24', nextHop: hop(hostB) }, signal);
    await p.deleteRoute(t, owned.find((r) => r.destination === 'fd00:10:244:2::/64')!, signal);
    await p.createRoute(t, { destination: 'fd00:10:244:3::/64', nextHop: hop(hostA) }, signal);
  });

  test('bad input is refused before any call', async () => {
    const p = w.provider({ routeTables: { ids: [table] } });
    await assert.rejects(p.createRoute(table, { destination: '10.245.0.0/24', nextHop: hop(hostA) }, signal), InvalidInputError);
    await assert.rejects(p.createRoute(table, { destination: '10.244.0.1/24', nextHop: hop(hostA) }, signal), InvalidInputError);
    await assert.rejects(p.deleteRoute(table, { table, destination: '10.244.1.0/24', state: 'active', owned: false }, signal), NotOwnedError);
    await assert.rejects(p.deleteRoute(table, { table, destination: '10.245.1.0/24', state: 'active', owned: true }, signal), NotOwnedError);
    assert.deepEqual(p.calls(), {});
  });

  test('EC2 errors become typed errors', async () => {
    const p = w.provider({ routeTables: { ids: [table] } });
    await assert.rejects(p.listRoutes('rtb-0000000000000dead', signal), NotFoundError);
    await assert.rejects(p.createRoute(table, { destination: '10.244.60.0/24', nextHop: { kind: 'instance', id: 'i-0000000000000dead' } }, signal), NotFoundError);
    await assert.rejects(p.replaceRoute(table, { destination: '10.244.61.0/24', nextHop: hop(hostA) }, signal), NotFoundError);
    assert.equal(p.calls().CreateRoute?.not_found, 1);
  });
});
