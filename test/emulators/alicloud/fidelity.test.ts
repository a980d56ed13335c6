// Answers checked byte for byte against the sample responses of Alibaba's VPC
// API reference (Version 2016-04-28): the emulator is seeded with the sample's
// values and its raw body must equal the sample, minified. Only what cannot be
// reproduced is substituted, each named where it happens: RequestId (random),
// NextToken (opaque), and the batch counters the samples get wrong.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type AlicloudEmulator, startAlicloudEmulator } from './emulator.ts';
import { rawCall } from './raw-client.ts';

let emu: AlicloudEmulator;
before(async () => {
  emu = await startAlicloudEmulator({ settings: { pendingMs: 0, deletingMs: 0 }, rateLimits: { enabled: false } });
});
after(() => emu.close());
beforeEach(() => emu.admin.reset());

/** The sample, minified, with the given fields replaced by what the emulator answered. */
function expected(sample: string, answer: Record<string, unknown>, replace: readonly string[]): string {
  const doc = JSON.parse(sample) as Record<string, unknown>;
  for (const k of replace) doc[k] = answer[k];
  return JSON.stringify(doc);
}

describe('alicloud emulator: fidelity to the API reference samples', () => {
  test('DescribeRouteTableList', async () => {
    const sample = `{
      "RequestId": "DC668356-BCB4-42FD-9BC3-FA2B2E04B634", "PageSize": 10, "PageNumber": 1, "TotalCount": 1,
      "RouterTableList": { "RouterTableListType": [ {
        "VpcId": "vpc-bp15zckdt37pq72****", "CreationTime": "2021-08-22T10:40:25Z", "Status": "Available",
        "RouterId": "vrt-bp1lhl0taikrteen8****", "AssociateType": "VSwitch", "RouteTableId": "vtb-bp145q7glnuzdvzu2****",
        "OwnerId": 253460731706911260, "Description": "This is Route Table.", "RouteTableType": "System",
        "ResourceGroupId": "rg-acfmxazb4ph****", "RouterType": "VRouter", "RouteTableName": "doctest",
        "Tags": { "Tag": [ { "Key": "type", "Value": "ingress" } ] },
        "VSwitchIds": { "VSwitchId": [ "vsw-bp12mw1f8k3jgygk9****" ] },
        "GatewayIds": { "GatewayIds": [ "ipv4gw-5tsnc6s4ogsedtp3k****" ] },
        "RoutePropagationEnable": true } ] } }`;
    emu.admin.seedVpc({ id: 'vpc-bp15zckdt37pq72****', cidr: '192.168.0.0/16' });
    emu.admin.seedTable({
      id: 'vtb-bp145q7glnuzdvzu2****', vpcId: 'vpc-bp15zckdt37pq72****', creationTime: '2021-08-22T10:40:25Z',
      routerId: 'vrt-bp1lhl0taikrteen8****', ownerId: 253460731706911260, description: 'This is Route Table.', type: 'System',
      resourceGroupId: 'rg-acfmxazb4ph****', name: 'doctest', tags: [{ Key: 'type', Value: 'ingress' }],
      vswitchIds: ['vsw-bp12mw1f8k3jgygk9****'], gatewayIds: ['ipv4gw-5tsnc6s4ogsedtp3k****'],
    });
    const r = await rawCall(emu.endpoint, { action: 'DescribeRouteTableList', query: { RegionId: 'cn-hangzhou', VpcId: 'vpc-bp15zckdt37pq72****' } });
    assert.equal(r.status, 200);
    assert.equal(r.text, expected(sample, r.json, ['RequestId']));
  });

  test('DescribeRouteEntryList', async () => {
    const sample = `{
      "NextToken": "FFmyTO70tTpLG6I3FmYAXGKPd****", "RequestId": "14A07460-EBE7-47CA-9757-12CC4761D47A",
      "RouteEntrys": { "RouteEntry": [ {
        "Status": "Available", "Type": "Custom", "IpVersion": "IPv4", "Description": "RouteEntryDescription",
        "RouteEntryName": "aaa", "DestinationCidrBlock": "192.168.2.0/24", "RouteEntryId": "rte-bp1mnnr2al0naomnp****",
        "RouteTableId": "vtb-bp15w5q90d2rk3bww****", "GmtModified": "2022-05-09T03:00:07Z",
        "NextHops": { "NextHop": [ {
          "NextHopRegionId": "cn-hangzhou", "Weight": 100, "NextHopId": "vpn-bp10zyaph5cc8b7c7****", "Enabled": 1,
          "NextHopType": "Instance",
          "NextHopRelatedInfo": { "InstanceId": "vpc-bp1t36rn9l53iwbsf****", "InstanceType": "VPC", "RegionId": "ch-hangzhou" } } ] },
        "ServiceType": "TR", "Origin": "RoutePropagation" } ] } }`;
    emu.admin.seedVpc({ id: 'vpc-doc', cidr: '172.16.0.0/12' });
    emu.admin.seedTable({ id: 'vtb-bp15w5q90d2rk3bww****', vpcId: 'vpc-doc', noSystemEntries: true });
    emu.admin.seedEntry({
      tableId: 'vtb-bp15w5q90d2rk3bww****', id: 'rte-bp1mnnr2al0naomnp****', destination: '192.168.2.0/24',
      description: 'RouteEntryDescription', name: 'aaa', gmtModified: '2022-05-09T03:00:07Z', serviceType: 'TR', origin: 'RoutePropagation',
      nextHops: [{
        NextHopRegionId: 'cn-hangzhou', Weight: 100, NextHopId: 'vpn-bp10zyaph5cc8b7c7****', Enabled: 1, NextHopType: 'Instance',
        NextHopRelatedInfo: { InstanceId: 'vpc-bp1t36rn9l53iwbsf****', InstanceType: 'VPC', RegionId: 'ch-hangzhou' },
      }],
    });
    // A second entry, so that the first page carries a NextToken as the sample does.
    emu.admin.seedEntry({ tableId: 'vtb-bp15w5q90d2rk3bww****', destination: '192.168.3.0/24' });
    const r = await rawCall(emu.endpoint, { query: { RegionId: 'cn-hangzhou', RouteTableId: 'vtb-bp15w5q90d2rk3bww****', MaxResult: '1' } });
    assert.equal(r.status, 200);
    assert.equal(r.text, expected(sample, r.json, ['RequestId', 'NextToken']));
    assert.notEqual(r.json.NextToken, '');
  });

  test('CreateRouteEntries, one created and one duplicate', async () => {
    // The sample reports 2/2 while listing one of each; counters substituted. Its FailedMessage
    // ends in the placeholder "xxxx", the duplicate CIDR.
    const sample = `{
      "SuccessCount": 2, "FailedCount": 2, "RequestId": "0ED8D006-F706-4D23-88ED-E11ED28DCAC0",
      "FailedRouteEntries": [ { "DstCidrBlock": "192.168.0.0/24", "NextHop": "i-j6c2fp57q8rr4jlu****",
        "FailedCode": "VPC_ROUTE_ENTRY_CIDR_BLOCK_DUPLICATE",
        "FailedMessage": "Specified CIDR block is already exists, entry.cidrBlock=xxxx" } ],
      "RouteEntryIds": [ "rte-sn6vjkioxte1gz83z****" ] }`.replace('=xxxx', '=192.168.0.0/24');
    emu.admin.seedVpc({ id: 'vpc-doc', cidr: '172.16.0.0/12' });
    emu.admin.seedTable({ id: 'vtb-bp145q7glnuzd****', vpcId: 'vpc-doc' });
    emu.admin.seedInstance({ id: 'i-j6c2fp57q8rr4jlu****', vpcId: 'vpc-doc', privateIps: ['172.16.0.10'] });
    emu.admin.seedEntry({ tableId: 'vtb-bp145q7glnuzd****', destination: '192.168.0.0/24', nextHops: [{ NextHopId: 'i-j6c2fp57q8rr4jlu****', NextHopType: 'Instance' }] });
    emu.admin.queueIds({ ids: ['rte-sn6vjkioxte1gz83z****'] });
    const entry = (n: number, cidr: string) => ({
      [`RouteEntries.${n}.RouteTableId`]: 'vtb-bp145q7glnuzd****', [`RouteEntries.${n}.DstCidrBlock`]: cidr,
      [`RouteEntries.${n}.NextHop`]: 'i-j6c2fp57q8rr4jlu****', [`RouteEntries.${n}.NextHopType`]: 'Instance',
    });
    const r = await rawCall(emu.endpoint, {
      action: 'CreateRouteEntries', query: { RegionId: 'cn-hangzhou', ...entry(1, '192.168.0.0/24'), ...entry(2, '192.168.1.0/24') },
    });
    assert.equal(r.status, 200);
    assert.deepEqual([r.json.SuccessCount, r.json.FailedCount], [1, 1]);
    assert.equal(r.text, expected(sample, r.json, ['RequestId', 'SuccessCount', 'FailedCount']));
  });

  test('DeleteRouteEntries, one deleted and one that does not exist', async () => {
    // Again the sample's counters (2/2) do not match its one listed failure; substituted.
    const sample = `{
      "RequestId": "0ED8D006-F706-4D23-88ED-E11ED28DCAC0", "SuccessCount": 2, "FailedCount": 2,
      "FailedRouteEntries": [ { "RouteEntryId": "rte-bp1mnnr2al0naomnpv****", "DstCidrBlock": "47.100.XX.XX/24",
        "NextHop": "i-j6c2fp57q8rr4jlu****", "FailedCode": "VPC_ROUTER_ENTRY_NOT_EXIST", "FailedMessage": "vRouterEntry not exists" } ] }`;
    emu.admin.seedVpc({ id: 'vpc-doc', cidr: '172.16.0.0/12' });
    emu.admin.seedTable({ id: 'vtb-2ze3jgygk9bmsj23s****', vpcId: 'vpc-doc' });
    const { id } = emu.admin.seedEntry({ tableId: 'vtb-2ze3jgygk9bmsj23s****', destination: '10.0.0.0/24' });
    const r = await rawCall(emu.endpoint, {
      action: 'DeleteRouteEntries',
      query: {
        RegionId: 'cn-hangzhou',
        'RouteEntries.1.RouteTableId': 'vtb-2ze3jgygk9bmsj23s****', 'RouteEntries.1.RouteEntryId': id,
        'RouteEntries.2.RouteTableId': 'vtb-2ze3jgygk9bmsj23s****', 'RouteEntries.2.RouteEntryId': 'rte-bp1mnnr2al0naomnpv****',
        'RouteEntries.2.DstCidrBlock': '47.100.XX.XX/24', 'RouteEntries.2.NextHop': 'i-j6c2fp57q8rr4jlu****',
      },
    });
    assert.equal(r.status, 200);
    assert.equal(r.text, expected(sample, r.json, ['RequestId', 'SuccessCount', 'FailedCount']));
  });

  test('DeleteRouteEntry', async () => {
    emu.admin.seedVpc({ id: 'vpc-doc', cidr: '172.16.0.0/12' });
    emu.admin.seedTable({ id: 'vtb-doc', vpcId: 'vpc-doc' });
    const { id } = emu.admin.seedEntry({ tableId: 'vtb-doc', destination: '10.0.0.0/24' });
    const r = await rawCall(emu.endpoint, { action: 'DeleteRouteEntry', query: { RegionId: 'cn-hangzhou', RouteEntryId: id } });
    assert.equal(r.text, expected('{ "RequestId": "0ED8D006-F706-4D23-88ED-E11ED28DCAC0" }', r.json, ['RequestId']));
  });

  test('error rows of the reference: HTTP status, Code and Message', async () => {
    emu.admin.seedVpc({ id: 'vpc-doc', cidr: '172.16.0.0/12' });
    emu.admin.seedTable({ id: 'vtb-doc', vpcId: 'vpc-doc', quota: 1 });
    emu.admin.seedInstance({ id: 'i-doc', vpcId: 'vpc-doc', privateIps: ['172.16.0.10'] });
    emu.admin.seedEntry({ tableId: 'vtb-doc', destination: '10.0.0.0/24' });
    const create = (query: Record<string, string>) => rawCall(emu.endpoint, {
      action: 'CreateRouteEntry', query: { RegionId: 'cn-hangzhou', RouteTableId: 'vtb-doc', NextHopId: 'i-doc', ...query },
    });
    const rows: [Promise<{ status: number; json: Record<string, unknown> }>, number, string, string][] = [
      [create({ RouteTableId: 'vtb-none', DestinationCidrBlock: '10.1.0.0/24' }), 404, 'InvalidRouteTableId.NotFound', 'Specified route table does not exist.'],
      [create({ NextHopId: 'i-none', DestinationCidrBlock: '10.1.0.0/24' }), 404, 'InvalidNextHopId.NotFound', 'Specified next hop does not exist.'],
      [create({ DestinationCidrBlock: '10.0.0.0/24' }), 400, 'InvalidCIDRBlock.Duplicate', 'Specified CIDR block is already exists.'],
      [create({ DestinationCidrBlock: '10.1.0.0/24' }), 400, 'QuotaExceeded', 'Route entry quota exceeded in this route table.'],
      [rawCall(emu.endpoint, { action: 'DeleteRouteEntry', query: { RegionId: 'cn-hangzhou', RouteEntryId: 'rte-none' } }),
        400, 'InvalidRouteEntry.NotFound', 'Route entry not exists.'],
      [rawCall(emu.endpoint, { query: { RegionId: 'cn-hangzhou', RouteTableId: 'vtb-none' } }), 400, 'InvalidRouteTable.NotFound', 'The specified RouteTable was not found.'],
      [rawCall(emu.endpoint, { query: { RegionId: 'cn-hangzhou', RouteTableId: 'vtb-doc', NextToken: 'x' } }), 400, 'IllegalParam.NextToken', 'User nextToken is illegal.'],
    ];
    for (const [answer, status, code, message] of rows) {
      const r = await answer;
      assert.deepEqual([r.status, r.json.Code, r.json.Message], [status, code, message]);
    }
  });
});
