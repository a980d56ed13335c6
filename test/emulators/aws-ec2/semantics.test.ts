// EC2's route and instance rules as the emulator enforces them, seen through the
// real SDK: duplicate routes, missing ones, multi-interface instances, blackholes,
// per-family quotas, filters and paging.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type Ec2Api, createEc2Api, Ec2ApiError } from '../../../providers/aws/api.ts';
import { type AwsEmulator, startAwsEmulator } from './emulator.ts';

const signal = new AbortController().signal;
const code = (expected: string) => (err: unknown): boolean => err instanceof Ec2ApiError && err.code === expected && err.status === 400;

describe('route rules', () => {
  let emu: AwsEmulator;
  let api: Ec2Api;
  let vpcId: string;
  let single: { id: string; enis: { id: string }[] };
  let multi: { id: string; enis: { id: string }[] };
  before(async () => {
    emu = await startAwsEmulator({ limits: { enabled: false } });
    vpcId = (await emu.admin.seedVpc({ cidr: '10.0.0.0/16', ipv6Cidr: '2600:1f14:1:2300::/56' })).id;
    single = await emu.admin.seedInstance({ vpcId, privateIp: '10.0.1.5' });
    multi = await emu.admin.seedInstance({ vpcId, enis: [{ privateIps: ['10.0.1.6'] }, { privateIps: ['10.0.2.6'] }] });
    api = createEc2Api({ region: 'us-east-1', endpoint: emu.endpoint, credentials: { accessKeyId: 'AKIDRULES', secretAccessKey: 's' } });
  });
  after(async () => { api.close(); await emu.close(); });
  const newTable = async (quota?: number): Promise<string> => (await emu.admin.seedRouteTable({ vpcId, ...(quota ? { quota } : {}) })).id;

  test('a table starts with its local routes (origin CreateRouteTable), which cannot be deleted', async () => {
    const table = await newTable();
    assert.deepEqual((await emu.admin.routes({ routeTableId: table })).map((r) => [r.destination, r.origin, r.target.gatewayId]), [
      ['10.0.0.0/16', 'CreateRouteTable', 'local'], ['2600:1f14:1:2300::/56', 'CreateRouteTable', 'local'],
    ]);
    await assert.rejects(api.deleteRoute({ table, destination: '10.0.0.0/16' }, signal), code('InvalidParameterValue'));
  });

  test('CreateRoute of an existing destination is RouteAlreadyExists, even with the same target', async () => {
    const table = await newTable();
    const route = { table, destination: '10.244.1.0/24', target: { kind: 'instance' as const, id: single.id } };
    await api.createRoute(route, signal);
    await assert.rejects(api.createRoute(route, signal), code('RouteAlreadyExists'));
    await assert.rejects(api.createRoute({ ...route, target: { kind: 'eni', id: multi.enis[0]!.id } }, signal), code('RouteAlreadyExists'));
  });

  test('destinations are stored in canonical form', async () => {
    const table = await newTable();
    await api.createRoute({ table, destination: '10.244.7.9/24', target: { kind: 'instance', id: single.id } }, signal);
    assert.ok((await emu.admin.routes({ routeTableId: table })).some((r) => r.destination === '10.244.7.0/24'));
  });

  test('unknown table, instance, interface and route have their NotFound codes', async () => {
    const table = await newTable();
    await assert.rejects(api.createRoute({ table: 'rtb-0000000000000dead', destination: '10.244.1.0/24', target: { kind: 'instance', id: single.id } }, signal), code('InvalidRouteTableID.NotFound'));
    await assert.rejects(api.createRoute({ table, destination: '10.244.1.0/24', target: { kind: 'instance', id: 'i-0000000000000dead' } }, signal), code('InvalidInstanceID.NotFound'));
    await assert.rejects(api.createRoute({ table, destination: '10.244.1.0/24', target: { kind: 'eni', id: 'eni-0000000000000dead' } }, signal), code('InvalidNetworkInterfaceID.NotFound'));
    await assert.rejects(api.deleteRoute({ table, destination: '10.244.99.0/24' }, signal), code('InvalidRoute.NotFound'));
    await assert.rejects(api.replaceRoute({ table, destination: '10.244.99.0/24', target: { kind: 'instance', id: single.id } }, signal), code('InvalidRoute.NotFound'));
  });

  test('an instance with several interfaces is refused as a target: route by interface', async () => {
    const table = await newTable();
    await assert.rejects(
      api.createRoute({ table, destination: '10.244.2.0/24', target: { kind: 'instance', id: multi.id } }, signal),
      (err: unknown) => code('InvalidInstanceID')(err) && /There are multiple interfaces attached to instance/.test((err as Error).message),
    );
    await api.createRoute({ table, destination: '10.244.2.0/24', target: { kind: 'eni', id: multi.enis[1]!.id } }, signal);
    const route = (await emu.admin.routes({ routeTableId: table })).find((r) => r.destination === '10.244.2.0/24');
    assert.deepEqual(route?.target, { networkInterfaceId: multi.enis[1]!.id, instanceId: multi.id }, 'EC2 shows the attached instance too');
  });

  test("a terminated instance's routes turn blackhole; ReplaceRoute revives them", async () => {
    const table = await newTable();
    const doomed = await emu.admin.seedInstance({ vpcId, privateIp: '10.0.3.3' });
    await api.createRoute({ table, destination: '10.244.3.0/24', target: { kind: 'instance', id: doomed.id } }, signal);
    await emu.admin.terminateInstance({ instanceId: doomed.id });
    const state = async (): Promise<string | undefined> => (await emu.admin.routes({ routeTableId: table })).find((r) => r.destination === '10.244.3.0/24')?.state;
    assert.equal(await state(), 'blackhole');
    await assert.rejects(api.createRoute({ table, destination: '10.244.4.0/24', target: { kind: 'instance', id: doomed.id } }, signal), code('IncorrectInstanceState'));
    await api.replaceRoute({ table, destination: '10.244.3.0/24', target: { kind: 'instance', id: single.id } }, signal);
    assert.equal(await state(), 'active');
  });

  test('the quota counts IPv4 and IPv6 routes separately; the local route is not counted', async () => {
    const table = await newTable(3);
    const hop = { kind: 'instance' as const, id: single.id };
    for (let i = 0; i < 3; i++) await api.createRoute({ table, destination: `10.244.${i}.0/24`, target: hop }, signal);
    await assert.rejects(api.createRoute({ table, destination: '10.244.9.0/24', target: hop }, signal), code('RouteLimitExceeded'));
    for (let i = 0; i < 3; i++) await api.createRoute({ table, destination: `fd00:0:0:${i}::/64`, target: hop }, signal);
    await assert.rejects(api.createRoute({ table, destination: 'fd00:0:0:9::/64', target: hop }, signal), code('RouteLimitExceeded'));
    await api.deleteRoute({ table, destination: '10.244.0.0/24' }, signal);
    await api.createRoute({ table, destination: '10.244.9.0/24', target: hop }, signal);
  });

  test('the default quota is 50 routes', async () => {
    const table = await newTable();
    const hop = { kind: 'instance' as const, id: single.id };
    for (let i = 0; i < 50; i++) await api.createRoute({ table, destination: `10.250.${i}.0/24`, target: hop }, signal);
    await assert.rejects(api.createRoute({ table, destination: '10.250.50.0/24', target: hop }, signal), code('RouteLimitExceeded'));
  });

  test('ModifyInstanceAttribute SourceDestCheck sets the primary interface only', async () => {
    await api.setSourceDestCheck({ instanceId: multi.id, value: false }, signal);
    const seen = await emu.admin.instance({ instanceId: multi.id });
    assert.equal(seen.sourceDestCheck, false);
    assert.deepEqual(seen.enis.map((e) => e.sourceDestCheck), [false, true]);
  });

  test('ModifyNetworkInterfaceAttribute SourceDestCheck sets that interface only; unknown and malformed ids are refused', async () => {
    const before = await emu.admin.instance({ instanceId: multi.id });
    await api.setInterfaceSourceDestCheck({ networkInterfaceId: before.enis[1]!.id, value: false }, signal);
    const seen = await emu.admin.instance({ instanceId: multi.id });
    assert.deepEqual(seen.enis.map((e) => e.sourceDestCheck), [before.enis[0]!.sourceDestCheck, false]);
    await assert.rejects(api.setInterfaceSourceDestCheck({ networkInterfaceId: 'eni-0000000000000dead', value: false }, signal), code('InvalidNetworkInterfaceID.NotFound'));
    await assert.rejects(api.setInterfaceSourceDestCheck({ networkInterfaceId: 'i-0123', value: false }, signal), code('InvalidNetworkInterfaceID.Malformed'));
  });
});

describe('filters and paging', () => {
  let emu: AwsEmulator;
  let api: Ec2Api;
  let vpcs: string[];
  before(async () => {
    emu = await startAwsEmulator({ limits: { enabled: false } });
    vpcs = [(await emu.admin.seedVpc({ cidr: '10.0.0.0/16' })).id, (await emu.admin.seedVpc({ cidr: '10.1.0.0/16' })).id];
    for (let i = 0; i < 12; i++) {
      await emu.admin.seedRouteTable({ vpcId: vpcs[i % 2]!, tags: i % 3 === 0 ? { 'kubernetes.io/cluster/blue': 'owned' } : { 'tartan.io/cluster': i % 3 === 1 ? 'red' : 'green' } });
    }
    await emu.admin.seedInstance({ vpcId: vpcs[0]!, enis: [{ privateIps: ['10.0.0.10'] }, { privateIps: ['10.0.5.10', '10.0.5.11'] }] });
    await emu.admin.seedInstance({ vpcId: vpcs[0]!, privateIp: '10.0.0.11', state: 'stopped' });
    await emu.admin.seedInstance({ vpcId: vpcs[1]!, privateIp: '10.1.0.12' });
    api = createEc2Api({ region: 'us-east-1', endpoint: emu.endpoint, credentials: { accessKeyId: 'AKIDPAGES', secretAccessKey: 's' } });
  });
  after(async () => { api.close(); await emu.close(); });

  const allTables = async (filters: { name: string; values: string[] }[]): Promise<number> => {
    let n = 0;
    let nextToken: string | undefined;
    do {
      const page = await api.describeRouteTables({ filters, maxResults: 5, nextToken }, signal);
      assert.ok(page.items.length <= 5);
      n += page.items.length;
      nextToken = page.nextToken;
    } while (nextToken);
    return n;
  };

  const tableCases = [
    { description: 'no filter', filters: [], count: 12 },
    { description: 'vpc-id', filters: [{ name: 'vpc-id', values: [] as string[] }], count: 6 },
    { description: 'tag-key', filters: [{ name: 'tag-key', values: ['kubernetes.io/cluster/blue'] }], count: 4 },
    { description: 'tag:<key> = value', filters: [{ name: 'tag:tartan.io/cluster', values: ['red'] }], count: 4 },
    { description: 'tag value wildcard', filters: [{ name: 'tag:tartan.io/cluster', values: ['*e*'] }], count: 8 },
    { description: 'two filters are ANDed', filters: [{ name: 'tag:tartan.io/cluster', values: ['red', 'green'] }, { name: 'vpc-id', values: [] as string[] }], count: 4 },
  ];
  for (const c of tableCases) {
    test(`DescribeRouteTables across pages of 5: ${c.description}`, async () => {
      const filters = c.filters.map((f) => (f.name === 'vpc-id' ? { ...f, values: [vpcs[0]!] } : f));
      assert.equal(await allTables(filters), c.count);
    });
  }

  test('the admin page cap makes pages smaller than MaxResults', async () => {
    await emu.admin.setPageSizeCap({ max: 2 });
    try {
      const page = await api.describeRouteTables({ maxResults: 100 }, signal);
      assert.equal(page.items.length, 2);
      assert.ok(page.nextToken);
    } finally {
      await emu.admin.setPageSizeCap({ max: 1000 });
    }
  });

  const instanceCases = [
    { description: 'private-ip-address matches the primary address only', filter: 'private-ip-address', values: ['10.0.5.10', '10.0.0.11'], count: 1 },
    { description: 'any interface address', filter: 'network-interface.addresses.private-ip-address', values: ['10.0.5.11', '10.1.0.12', '10.9.9.9'], count: 2 },
    { description: 'instance-state-name', filter: 'instance-state-name', values: ['running'], count: 2 },
    { description: 'vpc-id', filter: 'vpc-id', values: ['VPC0'], count: 2 },
  ];
  for (const c of instanceCases) {
    test(`DescribeInstances: ${c.description}`, async () => {
      const values = c.values.map((v) => (v === 'VPC0' ? vpcs[0]! : v));
      const page = await api.describeInstances({ filters: [{ name: c.filter, values }], maxResults: 5 }, signal);
      assert.equal(page.items.length, c.count);
    });
  }

  test('DescribeInstances pages by instance', async () => {
    await emu.admin.setPageSizeCap({ max: 1 });
    try {
      const seen: string[] = [];
      let nextToken: string | undefined;
      do {
        const page = await api.describeInstances({ maxResults: 5, nextToken }, signal);
        seen.push(...page.items.map((i) => i.id));
        nextToken = page.nextToken;
      } while (nextToken);
      assert.equal(new Set(seen).size, 3);
    } finally {
      await emu.admin.setPageSizeCap({ max: 1000 });
    }
  });
});
