// A tag selector that finds no table, against the EC2 emulator through the real
// provider: tables() is empty, and the tables it saw that look a typo away are named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAwsProvider, tartanClusterTag } from '../../providers/aws/index.ts';
import { canListCandidateTables } from '../../providers/route-table.ts';
import { describeTag, nearMisses, unmanagedReason } from '../../src/controller/near-miss.ts';
import { startAwsEmulator } from '../emulators/aws-ec2/emulator.ts';

test('aws: no table tagged for "prod"; the kubernetes-tagged and mis-cased tables are named', async (t) => {
  const emu = await startAwsEmulator();
  t.after(() => emu.close());
  const vpc = await emu.admin.seedVpc({ cidr: '192.168.0.0/16' });
  const k8s = await emu.admin.seedRouteTable({ vpcId: vpc.id, tags: { 'kubernetes.io/cluster/prod': 'owned' } });
  const cased = await emu.admin.seedRouteTable({ vpcId: vpc.id, tags: { 'tartan.io/cluster': 'Prod' } });
  await emu.admin.seedRouteTable({ vpcId: vpc.id, tags: { Name: 'unrelated' } });
  const provider = createAwsProvider({
    region: 'us-east-1', endpoint: emu.endpoint, credentials: { accessKeyId: 'AKIDNEAR', secretAccessKey: 'secret' },
    clusterNetworks: ['10.244.0.0/16'], routeTables: { tag: tartanClusterTag('prod') }, vpcId: vpc.id,
  });
  t.after(() => provider.close());
  const signal = new AbortController().signal;
  assert.deepEqual(await provider.tables(signal), []);
  assert.ok(canListCandidateTables(provider));
  const want = provider.tableTag!;
  const misses = nearMisses(want, await provider.candidateTables(signal));
  assert.deepEqual(misses.map((m) => m.table).sort(), [k8s.id, cased.id].sort());
  assert.match(unmanagedReason(describeTag(want), misses), new RegExp(`^no route table matches tag tartan\\.io/cluster=prod; similar: .*${cased.id} \\(tartan\\.io/cluster=Prod\\)`));
});
