// The emulator answers as EC2 does: sample requests and responses from the Amazon
// EC2 API Reference (reference/*.xml, from the "Examples" sections of
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeRouteTables.html,
// API_DeleteRoute.html, API_CreateRoute.html and API_DescribeInstances.html), and the
// real AWS SDK parses every field the provider reads.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createEc2Api, Ec2ApiError } from '../../../providers/aws/api.ts';
import { type AwsEmulator, startAwsEmulator } from './emulator.ts';
import { spawnAwsEmulator } from './spawn.ts';
import { rawGet, sigv4Headers, withoutRequestId } from './testkit.ts';

const reference = (name: string): string => readFileSync(new URL(`reference/${name}`, import.meta.url), 'utf8').trimEnd();
const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';
const signal = new AbortController().signal;

describe('EC2 API reference examples', () => {
  let emu: AwsEmulator;
  before(async () => {
    emu = await startAwsEmulator();
    const { admin } = emu;
    await admin.seedVpc({ id: 'vpc-12345678912345678', cidr: '172.31.0.0/16', ownerId: '111122223333' });
    await admin.seedRouteTable({
      id: 'rtb-1122334455667788a', vpcId: 'vpc-12345678912345678',
      associations: [{ id: 'rtbassoc-04ca27a6914a0b4fc', main: true }],
      routes: [
        { destination: '10.0.1.0/32', target: { gatewayId: 'igw-012345678901abcdef' } },
        { destination: '172.31.0.0/16', target: { gatewayId: 'local' }, origin: 'CreateRouteTable' },
        { destination: '0.0.0.0/0', target: { gatewayId: 'igw-012345678901abcdef' } },
      ],
    });
    await admin.seedVpc({ id: 'vpc-11112222', cidr: '192.168.0.0/16', ownerId: '123456789012' });
    await admin.seedInstance({
      id: 'i-1234567890abcdef0', vpcId: 'vpc-11112222', tags: { Name: 'Server_1' },
      enis: [{ id: 'eni-551ba033', privateIps: ['192.168.1.88'] }],
    });
  });
  after(async () => { await emu.close(); });

  test('DescribeRouteTables: the sample response, byte for byte', async () => {
    const res = await rawGet(emu.endpoint, 'Action=DescribeRouteTables');
    assert.equal(res.status, 200);
    assert.ok(res.body.startsWith(DECLARATION), 'EC2 answers start with an XML declaration (the samples leave it out)');
    assert.equal(withoutRequestId(res.body.slice(DECLARATION.length)), withoutRequestId(reference('describe-route-tables.xml')));
  });

  test('DeleteRoute: the sample request and response (the sample indents by 3, EC2 and the other samples by 4)', async () => {
    await emu.admin.seedRoute({ routeTableId: 'rtb-1122334455667788a', destination: '172.16.1.0/24', target: { gatewayId: 'igw-012345678901abcdef' } });
    const res = await rawGet(emu.endpoint, 'Action=DeleteRoute&RouteTableId=rtb-1122334455667788a&DestinationCidrBlock=172.16.1.0/24');
    assert.equal(res.status, 200);
    const squeeze = (xml: string): string => withoutRequestId(xml).replace(/>\s+</g, '><');
    assert.equal(squeeze(res.body.slice(DECLARATION.length)), squeeze(reference('delete-route.xml')));
    const routes = await emu.admin.routes({ routeTableId: 'rtb-1122334455667788a' });
    assert.equal(routes.some((r) => r.destination === '172.16.1.0/24'), false);
  });

  test('CreateRoute: the sample requests (gateway, then instance) take effect', async () => {
    const viaGateway = await rawGet(emu.endpoint, 'Action=CreateRoute&RouteTableId=rtb-1122334455667788a&DestinationCidrBlock=198.51.100.0/24&GatewayId=igw-eaad4883');
    assert.equal(viaGateway.status, 200, viaGateway.body);
    assert.match(viaGateway.body, /<return>true<\/return>/);
    const res = await rawGet(emu.endpoint, 'Action=CreateRoute&RouteTableId=rtb-1122334455667788a&DestinationCidrBlock=203.0.113.0/24&InstanceId=i-1234567890abcdef0');
    assert.equal(res.status, 400, 'the sample instance lives in another VPC than the sample table');
    assert.match(res.body, /<Code>InvalidParameterValue<\/Code><Message>route table rtb-1122334455667788a and network gateway i-1234567890abcdef0 belong to different networks/);
  });

  test('DescribeInstances: what the emulator writes appears in the sample, in the same order, with the same values', async () => {
    const res = await rawGet(emu.endpoint, 'Action=DescribeInstances&InstanceId.1=i-1234567890abcdef0');
    assert.equal(res.status, 200);
    const ours = elements(res.body.slice(DECLARATION.length));
    const theirs = elements(reference('describe-instances.xml'));
    const ignoredValues = new Set(['requestId', 'privateDnsName', 'attachmentId']);
    let cursor = 0;
    for (const e of ours) {
      const at = theirs.findIndex((t, i) => i >= cursor && t.path === e.path);
      assert.ok(at >= 0, `${e.path} is not in the sample after position ${cursor}`);
      const leaf = e.path.split('/').pop()!;
      if (e.text !== undefined && !ignoredValues.has(leaf)) assert.equal(e.text, theirs[at]!.text, `value of ${e.path}`);
      cursor = at + 1;
    }
    assert.ok(ours.length >= 30, `the emulator wrote ${ours.length} elements`);
  });

  test('an error: one line, EC2 code and message, HTTP 400', async () => {
    const res = await rawGet(emu.endpoint, 'Action=DeleteRoute&RouteTableId=rtb-0000000000000dead&DestinationCidrBlock=10.0.0.0/24');
    assert.equal(res.status, 400);
    assert.equal(
      withoutRequestId(res.body),
      `${DECLARATION}<Response><Errors><Error><Code>InvalidRouteTableID.NotFound</Code><Message>The routeTable ID 'rtb-0000000000000dead' does not exist</Message></Error></Errors><RequestID/></Response>`,
    );
  });
});

describe('request checks', () => {
  let emu: AwsEmulator;
  before(async () => { emu = await startAwsEmulator(); });
  after(async () => { await emu.close(); });

  const cases: { description: string; query: string; headers?: Record<string, string>; status: number; code: string }[] = [
    { description: 'unsigned', query: 'Action=DescribeRouteTables', headers: {}, status: 401, code: 'AuthFailure' },
    { description: 'signed for another service', query: 'Action=DescribeRouteTables', headers: sigv4Headers('AKID', 's3'), status: 401, code: 'AuthFailure' },
    { description: 'no x-amz-date', query: 'Action=DescribeRouteTables', headers: { authorization: sigv4Headers().authorization! }, status: 401, code: 'AuthFailure' },
    { description: 'unknown action', query: 'Action=RunInstances', status: 400, code: 'InvalidAction' },
    { description: 'unknown filter', query: 'Action=DescribeRouteTables&Filter.1.Name=nope&Filter.1.Value.1=x', status: 400, code: 'InvalidParameterValue' },
    { description: 'MaxResults below 5', query: 'Action=DescribeRouteTables&MaxResults=3', status: 400, code: 'InvalidParameterValue' },
    { description: 'MaxResults above 100 for route tables', query: 'Action=DescribeRouteTables&MaxResults=101', status: 400, code: 'InvalidParameterValue' },
    { description: 'instance ids with MaxResults', query: 'Action=DescribeInstances&InstanceId.1=i-1&MaxResults=5', status: 400, code: 'InvalidParameterCombination' },
    { description: 'a forged NextToken', query: 'Action=DescribeRouteTables&MaxResults=5&NextToken=garbage', status: 400, code: 'InvalidPaginationToken' },
    { description: 'CreateRoute in an unknown table', query: 'Action=CreateRoute&RouteTableId=rtb-1&DestinationCidrBlock=10.0.0.0/24&GatewayId=igw-1', status: 400, code: 'InvalidRouteTableID.NotFound' },
  ];
  for (const c of cases) {
    test(c.description, async () => {
      const res = await rawGet(emu.endpoint, c.query, c.headers);
      assert.equal(res.status, c.status, res.body);
      assert.match(res.body, new RegExp(`<Code>${c.code.replace('.', '\\.')}</Code>`));
    });
  }
});

describe('the AWS SDK reads the answers', () => {
  let emu: AwsEmulator;
  before(async () => { emu = await startAwsEmulator(); });
  after(async () => { await emu.close(); });

  test('routes: state, origin, instance, interface, IPv6, next tokens, tags', async () => {
    const { admin } = emu;
    const vpc = await admin.seedVpc({ cidr: '10.0.0.0/16', ipv6Cidr: '2600:1f14:1:2300::/56' });
    const single = await admin.seedInstance({ vpcId: vpc.id, privateIp: '10.0.1.5' });
    const multi = await admin.seedInstance({ vpcId: vpc.id, enis: [{ privateIps: ['10.0.1.6'] }, { privateIps: ['10.0.2.6'] }] });
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push((await admin.seedRouteTable({ vpcId: vpc.id, tags: { team: `t${i}` } })).id);
    const api = createEc2Api({ region: 'us-east-1', endpoint: emu.endpoint, credentials: { accessKeyId: 'AKIDSDK', secretAccessKey: 's' } });
    try {
      await api.createRoute({ table: ids[0]!, destination: '10.244.1.0/24', target: { kind: 'instance', id: single.id } }, signal);
      await api.createRoute({ table: ids[0]!, destination: 'fd00:10:244:2::/64', target: { kind: 'eni', id: multi.enis[1]!.id } }, signal);
      await admin.terminateInstance({ instanceId: single.id });
      const first = await api.describeRouteTables({ maxResults: 5 }, signal);
      assert.equal(first.items.length, 5);
      assert.ok(first.nextToken, 'NextToken came through');
      const second = await api.describeRouteTables({ maxResults: 5, nextToken: first.nextToken }, signal);
      assert.deepEqual([...first.items, ...second.items].map((t) => t.id), ids);
      assert.equal(second.nextToken, undefined);
      const t0 = first.items[0]!;
      assert.deepEqual(t0.tags, { team: 't0' });
      assert.deepEqual(t0.routes.map((r) => [r.destination, r.origin, r.state, r.gatewayId, r.instanceId, r.networkInterfaceId]), [
        ['10.0.0.0/16', 'CreateRouteTable', 'active', 'local', undefined, undefined],
        ['2600:1f14:1:2300::/56', 'CreateRouteTable', 'active', 'local', undefined, undefined],
        ['10.244.1.0/24', 'CreateRoute', 'blackhole', undefined, single.id, single.enis[0]!.id],
        ['fd00:10:244:2::/64', 'CreateRoute', 'active', undefined, multi.id, multi.enis[1]!.id],
      ]);
    } finally {
      api.close();
    }
  });

  test('instances: state, addresses, interfaces with device index and SourceDestCheck', async () => {
    const { admin } = emu;
    const vpc = await admin.seedVpc({ cidr: '10.1.0.0/16' });
    const seeded = await admin.seedInstance({ vpcId: vpc.id, sourceDestCheck: false, enis: [{ privateIps: ['10.1.0.5', '10.1.0.50'] }, { privateIps: ['10.1.9.5'], sourceDestCheck: true }] });
    const api = createEc2Api({ region: 'us-east-1', endpoint: emu.endpoint, credentials: { accessKeyId: 'AKIDSDK', secretAccessKey: 's' } });
    try {
      const page = await api.describeInstances({ filters: [{ name: 'instance-id', values: [seeded.id] }], maxResults: 5 }, signal);
      assert.deepEqual(page.items, [{
        id: seeded.id, state: 'running', vpcId: vpc.id, privateIp: '10.1.0.5', sourceDestCheck: false,
        enis: [
          { id: seeded.enis[0]!.id, deviceIndex: 0, privateIps: ['10.1.0.5', '10.1.0.50'], sourceDestCheck: false },
          { id: seeded.enis[1]!.id, deviceIndex: 1, privateIps: ['10.1.9.5'], sourceDestCheck: true },
        ],
      }]);
      await assert.rejects(api.setSourceDestCheck({ instanceId: 'i-0000000000000dead', value: false }, signal),
        (err: unknown) => err instanceof Ec2ApiError && err.code === 'InvalidInstanceID.NotFound' && err.status === 400 && err.kind === 'client');
    } finally {
      api.close();
    }
  });
});

test('standalone: `node test/emulators/aws-ec2 --port 0` serves the admin API as JSON', async () => {
  const emu = await spawnAwsEmulator(['--no-limits']);
  try {
    const vpc = await emu.admin.seedVpc({ cidr: '10.2.0.0/16' });
    const table = await emu.admin.seedRouteTable({ vpcId: vpc.id, tags: { 'tartan.io/cluster': 'solo' } });
    const api = createEc2Api({ region: 'us-east-1', endpoint: emu.endpoint, credentials: { accessKeyId: 'AKIDSOLO', secretAccessKey: 's' } });
    try {
      const page = await api.describeRouteTables({ filters: [{ name: 'tag:tartan.io/cluster', values: ['solo'] }] }, signal);
      assert.deepEqual(page.items.map((t) => t.id), [table.id]);
    } finally {
      api.close();
    }
    const calls = await emu.admin.calls();
    assert.deepEqual(calls.map((c) => [c.action, c.code, c.accessKeyId]), [['DescribeRouteTables', 'ok', 'AKIDSOLO']]);
    await assert.rejects(emu.admin.seedRoute({ routeTableId: 'rtb-missing', destination: '10.0.0.0/8', target: { gatewayId: 'igw-1' } }), /does not exist/);
  } finally {
    await emu.close();
  }
});

/** Elements in document order: slash-joined path and, for leaves, the text. */
function elements(xml: string): { path: string; text?: string | undefined }[] {
  const out: { path: string; text?: string | undefined }[] = [];
  const stack: string[] = [];
  for (const m of xml.matchAll(/<(\/?)([A-Za-z][\w.-]*)[^>]*?(\/?)>|([^<]+)/g)) {
    if (m[4] !== undefined) {
      if (m[4].trim() !== '' && out.length > 0) out[out.length - 1]!.text = m[4];
    } else if (m[1] === '/') {
      stack.pop();
    } else {
      out.push({ path: [...stack, m[2]!].join('/') });
      if (m[3] !== '/') stack.push(m[2]!);
    }
  }
  return out;
}
