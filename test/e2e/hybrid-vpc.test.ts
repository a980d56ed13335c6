// The hybrid lab's emulated VPC on its own (no tartan): the VPC router's kernel
// follows the EC2 emulator's route table, and it does so before EC2 answers a write.
// The hybrid e2e tests rely on both.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatCidr } from '../../src/net/cidr.ts';
import { rawGet } from '../emulators/aws-ec2/testkit.ts';
import { type HybridHost, type HybridLab, type LabVpc, createHybridLab, ping, startLabVpc } from '../lab/index.ts';

const skip = process.getuid?.() === 0 ? false : 'needs root: builds network namespaces';

describe('hybrid lab: the VPC router follows the route table', { skip }, () => {
  let lab: HybridLab;
  let vpc: LabVpc;
  let a: HybridHost, b: HybridHost;
  const ec2 = async (query: string): Promise<void> => {
    const res = await rawGet(vpc.endpoint, query);
    assert.equal(res.status, 200, res.body);
  };
  const kernel = async (): Promise<string[]> => (await vpc.kernelRoutes()).map((r) => `${r.dst} via ${r.gateway}`);
  const create = (host: HybridHost): Promise<void> =>
    ec2(`Action=CreateRoute&RouteTableId=${vpc.routeTableId}&DestinationCidrBlock=${formatCidr(host.subnet)}&InstanceId=${vpc.instanceOf(host)}`);
  const sourceDestCheck = (host: HybridHost, on: boolean): Promise<void> =>
    ec2(`Action=ModifyInstanceAttribute&InstanceId=${vpc.instanceOf(host)}&SourceDestCheck.Value=${on}`);

  before(async () => {
    lab = await createHybridLab({ hosts: ['cloud', 'cloud'], podsPerHost: 1 });
    vpc = await startLabVpc(lab);
    [a, b] = lab.hosts as [HybridHost, HybridHost];
  });
  after(async () => {
    await vpc?.close();
    await lab?.destroy();
  });

  it('a route to an instance whose source/destination check is on carries nothing; turning the check off installs it before EC2 answers', async () => {
    await create(a);
    assert.deepEqual(await kernel(), []);
    await sourceDestCheck(a, false);
    // No wait: the sync ran inside the answer.
    assert.deepEqual(await kernel(), [`${formatCidr(a.subnet)} via ${a.ip}`]);
  });

  it('with routes both ways, pods in different VPC subnets reach each other through the VPC router alone', async () => {
    await sourceDestCheck(b, false);
    await create(b);
    assert.deepEqual((await kernel()).sort(), [`${formatCidr(a.subnet)} via ${a.ip}`, `${formatCidr(b.subnet)} via ${b.ip}`]);
    assert.equal((await ping(a.pods[0]!.ns, b.pods[0]!.ip, { count: 2 })).received, 2);
    assert.equal((await ping(b.pods[0]!.ns, a.pods[0]!.ip, { count: 2 })).received, 2);
  });

  it('DeleteRoute removes the route before EC2 answers; a terminated instance\'s route (blackhole) goes at the next sync', async () => {
    await ec2(`Action=DeleteRoute&RouteTableId=${vpc.routeTableId}&DestinationCidrBlock=${formatCidr(b.subnet)}`);
    assert.deepEqual(await kernel(), [`${formatCidr(a.subnet)} via ${a.ip}`]);
    assert.equal((await ping(a.pods[0]!.ns, b.pods[0]!.ip, { count: 1, timeout: 1 })).received, 0);
    await vpc.admin.terminateInstance({ instanceId: vpc.instanceOf(a) });
    assert.equal((await vpc.tableRoutes()).find((r) => r.destination === formatCidr(a.subnet))?.state, 'blackhole');
    await vpc.sync();
    assert.deepEqual(await kernel(), []);
  });
});
