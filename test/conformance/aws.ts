// The AWS conformance harness: the EC2 emulator seeded with one tagged table and
// three instances, and the real provider pointed at it. `actions` reads the EC2
// actions the emulator answered (the Terraform policy test compares them with the IAM policy).
import { createAwsProvider, tartanClusterTag } from '../../providers/aws/index.ts';
import { startAwsEmulator } from '../emulators/aws-ec2/emulator.ts';
import type { RecordingHarness } from './route-table.ts';

export const AWS_GAPS = {
  'listing paginates': 'DescribeRouteTables answers a table with all its routes: route listings have no pages (tables do: test/providers/aws/provider.test.ts)',
  'batch writes create and delete many routes': 'EC2 has no batch route API: CreateRoute writes one route',
} as const;

export async function awsHarness(): Promise<RecordingHarness> {
  const emulator = await startAwsEmulator();
  const { admin } = emulator;
  const vpc = await admin.seedVpc({ cidr: '192.168.0.0/16' });
  const table = await admin.seedRouteTable({ vpcId: vpc.id, tags: { 'tartan.io/cluster': 'conformance' } });
  const hosts = [];
  for (const i of [1, 2, 3]) {
    const instance = await admin.seedInstance({ vpcId: vpc.id, privateIp: `192.168.0.${i}` });
    hosts.push({ host: { publicIp: `192.168.0.${i}` }, nextHop: { kind: 'instance' as const, id: instance.id } });
  }
  const provider = createAwsProvider({
    region: 'us-east-1',
    endpoint: emulator.endpoint,
    credentials: { accessKeyId: 'AKIDCONFORMANCE', secretAccessKey: 'secret' },
    clusterNetworks: ['10.244.0.0/16'],
    routeTables: { tag: tartanClusterTag('conformance') },
    retry: { baseMs: 5, maxMs: 50 },
  });
  return {
    provider,
    table: table.id,
    clusterNetwork: '10.244.0.0/16',
    hosts,
    outsideHost: { publicIp: '172.16.0.9' },
    absentNextHop: { kind: 'instance', id: 'i-0000000000000dead' },
    setQuota: (quota) => admin.setQuota({ routeTableId: table.id, quota }),
    // EC2 routes carry no marker of their own: a route by hand to an instance inside
    // the Network is indistinguishable from tartan's. What lacks tartan's marker is a
    // route to something other than an instance or interface, e.g. a peering connection.
    seedForeignRoute: (destination) => admin.seedRoute({ routeTableId: table.id, destination, target: { vpcPeeringConnectionId: 'pcx-0f1e2d3c4b5a69788' } }),
    setPageSize: (max) => admin.setPageSizeCap({ max }),
    injectFaults: (f) => admin.injectFaults({ throttle: f.throttle ?? 0, serverErrors: f.serverErrors ?? 0 }),
    actions: async () => (await admin.calls()).map((c) => c.action),
    close: async () => {
      provider.close();
      await emulator.close();
    },
  };
}
