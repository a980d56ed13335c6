import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCidr } from '../../src/net/cidr.ts';
import type { Ec2Route, Ec2RouteTable } from './api.ts';
import { type NextHop, routesTo } from '../route-table.ts';
import { classify, findRoute, isOwned, nextHopsOf, quotaUse, targets } from './routes.ts';

const networks = [parseCidr('10.244.0.0/16'), parseCidr('fd00:10:244::/48')];
const route = (r: Partial<Ec2Route>): Ec2Route => ({ destination: '10.244.1.0/24', state: 'active', origin: 'CreateRoute', ...r });

describe('isOwned', () => {
  const cases: { description: string; route: Ec2Route; owned: boolean }[] = [
    { description: 'CreateRoute to an instance inside the Network', route: route({ instanceId: 'i-1', networkInterfaceId: 'eni-1' }), owned: true },
    { description: 'CreateRoute to an interface with no instance', route: route({ networkInterfaceId: 'eni-1' }), owned: true },
    { description: 'IPv6 inside the IPv6 Network', route: route({ destination: 'fd00:10:244:5::/64', instanceId: 'i-1' }), owned: true },
    { description: 'a blackhole route is still owned', route: route({ instanceId: 'i-1', state: 'blackhole' }), owned: true },
    { description: 'outside the Network', route: route({ destination: '10.245.1.0/24', instanceId: 'i-1' }), owned: false },
    { description: 'wider than the Network (overlaps, not inside)', route: route({ destination: '10.0.0.0/8', instanceId: 'i-1' }), owned: false },
    { description: 'to a peering connection', route: route({ otherTarget: 'pcx-1' }), owned: false },
    { description: 'to a gateway', route: route({ gatewayId: 'igw-1' }), owned: false },
    { description: 'propagated', route: route({ origin: 'EnableVgwRoutePropagation', instanceId: 'i-1' }), owned: false },
    { description: 'the local route', route: route({ destination: '10.244.0.0/16', gatewayId: 'local', origin: 'CreateRouteTable' }), owned: false },
    { description: 'a prefix-list route', route: route({ destination: undefined, instanceId: 'i-1' }), owned: false },
  ];
  for (const c of cases) test(c.description, () => assert.equal(isOwned(c.route, networks), c.owned));
});

describe('nextHopsOf', () => {
  const cases: { description: string; route: Ec2Route; hops: unknown }[] = [
    {
      description: 'an attached interface: the instance, the interface as an alias',
      route: route({ instanceId: 'i-1', networkInterfaceId: 'eni-a' }),
      hops: { nextHop: { kind: 'instance', id: 'i-1' }, nextHopAliases: [{ kind: 'eni', id: 'eni-a' }] },
    },
    { description: 'a detached interface', route: route({ networkInterfaceId: 'eni-e' }), hops: { nextHop: { kind: 'eni', id: 'eni-e' } } },
    { description: 'an instance only', route: route({ instanceId: 'i-1' }), hops: { nextHop: { kind: 'instance', id: 'i-1' } } },
    { description: 'a gateway: none', route: route({ gatewayId: 'igw-1' }), hops: { nextHop: undefined } },
  ];
  for (const c of cases) test(c.description, () => assert.deepEqual(nextHopsOf(c.route), c.hops));

  // What the controller compares: the wanted hop is the instance for a host with one
  // interface and the interface for a host with several; both match the same route.
  const shown = nextHopsOf(route({ instanceId: 'i-multi', networkInterfaceId: 'eni-b' }));
  const wanted: { description: string; hop: NextHop; match: boolean }[] = [
    { description: 'by instance (one interface)', hop: { kind: 'instance', id: 'i-multi' }, match: true },
    { description: 'by the interface it goes to (several interfaces)', hop: { kind: 'eni', id: 'eni-b' }, match: true },
    { description: "by another of the instance's interfaces", hop: { kind: 'eni', id: 'eni-c' }, match: false },
    { description: 'by another instance', hop: { kind: 'instance', id: 'i-other' }, match: false },
  ];
  for (const w of wanted) test(`wanted ${w.description}: ${w.match ? 'same' : 'different'} target`, () => assert.equal(routesTo(shown, w.hop), w.match));
});

test('targets compares the field the next hop names', () => {
  const r = route({ instanceId: 'i-1', networkInterfaceId: 'eni-1' });
  assert.equal(targets(r, { kind: 'instance', id: 'i-1' }), true);
  assert.equal(targets(r, { kind: 'eni', id: 'eni-1' }), true);
  assert.equal(targets(r, { kind: 'instance', id: 'i-2' }), false);
  assert.equal(targets(r, { kind: 'eni', id: 'i-1' }), false);
});

describe('a table', () => {
  const table: Ec2RouteTable = {
    id: 'rtb-1', vpcId: 'vpc-1', tags: {},
    routes: [
      route({ destination: '10.0.0.0/16', gatewayId: 'local', origin: 'CreateRouteTable' }),
      route({ destination: '10.244.0.0/16', gatewayId: 'local', origin: 'CreateRouteTable' }),
      route({ destination: '10.244.1.0/24', instanceId: 'i-1', networkInterfaceId: 'eni-1' }),
      route({ destination: '10.244.2.0/24', instanceId: 'i-2', networkInterfaceId: 'eni-22', state: 'blackhole' }),
      route({ destination: '10.244.3.0/24', otherTarget: 'pcx-1' }),
      route({ destination: '0.0.0.0/0', gatewayId: 'igw-1' }),
      route({ destination: '172.16.0.0/24', instanceId: 'i-9', networkInterfaceId: 'eni-9' }),
      route({ destination: 'fd00:10:244:1::/64', instanceId: 'i-1', networkInterfaceId: 'eni-1' }),
      route({ destination: '::/0', gatewayId: 'igw-1', origin: 'CreateRoute' }),
    ],
  };

  test('owned and foreign routes; routes away from the Network (the VPC local route, 172.16/24) are left out', () => {
    const listing = classify(table, networks);
    assert.deepEqual(listing.owned, [
      { table: 'rtb-1', destination: '10.244.1.0/24', nextHop: { kind: 'instance', id: 'i-1' }, nextHopAliases: [{ kind: 'eni', id: 'eni-1' }], state: 'active', owned: true },
      { table: 'rtb-1', destination: '10.244.2.0/24', nextHop: { kind: 'instance', id: 'i-2' }, nextHopAliases: [{ kind: 'eni', id: 'eni-22' }], state: 'blackhole', owned: true },
      { table: 'rtb-1', destination: 'fd00:10:244:1::/64', nextHop: { kind: 'instance', id: 'i-1' }, nextHopAliases: [{ kind: 'eni', id: 'eni-1' }], state: 'active', owned: true },
    ]);
    assert.deepEqual(listing.foreign.map((r) => [r.destination, r.owned, r.nextHop]), [
      ['10.244.0.0/16', false, undefined], // a local route overlapping the Network
      ['10.244.3.0/24', false, undefined],
      ['0.0.0.0/0', false, undefined],
      ['::/0', false, undefined],
    ]);
  });

  test('quota use counts CreateRoute routes per family', () => {
    assert.deepEqual(quotaUse(table), { v4: 5, v6: 2 });
  });

  test('findRoute matches canonical destinations', () => {
    assert.equal(findRoute(table, '10.244.3.0/24')?.otherTarget, 'pcx-1');
    assert.equal(findRoute(table, '10.244.4.0/24'), undefined);
  });
});
