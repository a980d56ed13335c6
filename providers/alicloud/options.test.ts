import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidInputError } from '../../src/errors.ts';
import { silentLogger } from '../../src/observe/log.ts';
import type { ProviderStart } from '../shared/settings.ts';
import { type AlicloudProviderOptions, optionsFromFlags, resolveCredentials, resolveOptions } from './options.ts';

const good: AlicloudProviderOptions = { regionId: 'cn-hangzhou', vpcId: 'vpc-abc', clusterName: 'prod', clusterNetworks: ['10.244.0.0/16'] };

describe('alicloud options', () => {
  const bad: { description: string; change: Partial<AlicloudProviderOptions>; field: string }[] = [
    { description: 'a region that is not one', change: { regionId: 'Hangzhou' }, field: 'regionId' },
    { description: 'a VPC id without vpc-', change: { vpcId: 'abc' }, field: 'vpcId' },
    { description: 'a cluster name that cannot be a marker', change: { clusterName: 'Prod Cluster' }, field: 'clusterName' },
    { description: 'no cluster Network', change: { clusterNetworks: [] }, field: 'clusterNetworks' },
    { description: 'a cluster Network with host bits', change: { clusterNetworks: ['10.244.0.1/16'] }, field: 'clusterNetworks[0]' },
    { description: 'a table id without vtb-', change: { routeTableIds: ['rtb-1'] }, field: 'routeTableIds' },
    { description: 'a zero batch size', change: { maxBatch: 0 }, field: 'maxBatch' },
  ];
  for (const c of bad) {
    test(`rejects ${c.description}, naming ${c.field}`, () => {
      assert.throws(() => resolveOptions({ ...good, ...c.change }), (e: unknown) => e instanceof InvalidInputError && e.field === c.field);
    });
  }

  test('defaults: quota 200, batches of 50, the VPC as write-lock scope, a cluster tag for discovery', () => {
    const o = resolveOptions(good);
    assert.deepEqual([o.routeQuota, o.maxBatch, o.writeLockScope, o.tableTag], [200, 50, 'vpc', { key: 'tartan.io/cluster', value: 'prod' }]);
    assert.ok(Object.isFrozen(o));
    assert.ok(o.rateLimits.DescribeRouteEntryList.refillPerSecond < 20 && o.rateLimits.CreateRouteEntries.refillPerSecond < 10);
  });

  test('credentials: explicit ones, else the SDK\'s environment variables, else a clear error', () => {
    const explicit = { accessKeyId: 'a', accessKeySecret: 'b' };
    assert.deepEqual(resolveCredentials({ ...good, credentials: explicit }), explicit);
    const env = { ALIBABA_CLOUD_ACCESS_KEY_ID: 'id', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'secret', ALIBABA_CLOUD_SECURITY_TOKEN: 'sts' };
    assert.deepEqual(resolveCredentials({ ...good, env }), { accessKeyId: 'id', accessKeySecret: 'secret', securityToken: 'sts' });
    assert.throws(() => resolveCredentials({ ...good, env: {} }), (e: unknown) => e instanceof InvalidInputError && e.field === 'credentials');
  });
});

describe('alicloud options from the CLI flags', () => {
  const start = (flags: Partial<ProviderStart['flags']>, backend: Record<string, unknown> = {}): ProviderStart => ({
    flags: { 'cluster-name': 'prod', ...flags }, clusterNetworks: ['10.244.0.0/16'], env: {}, logger: silentLogger(),
    backendOption: (name) => backend[name],
  });
  test('--region and --vpc-id are required, by flag name', () => {
    assert.throws(() => optionsFromFlags(start({ 'vpc-id': 'vpc-abc' })), (e: unknown) => e instanceof InvalidInputError && e.field === '--region');
    assert.throws(() => optionsFromFlags(start({ region: 'cn-hangzhou' })), (e: unknown) => e instanceof InvalidInputError && e.field === '--vpc-id');
  });
  test("flannel's ali-vpc Backend options: RouteTableID and the access key", () => {
    const o = optionsFromFlags(start({ region: 'cn-hangzhou', 'vpc-id': 'vpc-abc' }, { RouteTableID: ['vtb-1', 'vtb-2'], AccessKeyID: 'id', AccessKeySecret: 'secret' }));
    assert.deepEqual(o.routeTableIds, ['vtb-1', 'vtb-2']);
    assert.deepEqual(o.credentials, { accessKeyId: 'id', accessKeySecret: 'secret' });
    assert.equal(optionsFromFlags(start({ region: 'cn-hangzhou', 'vpc-id': 'vpc-abc' })).routeTableIds, undefined, 'no ids: tables by tag');
  });
  test('a Backend.RouteTableID that is not ids is refused', () => {
    assert.throws(() => optionsFromFlags(start({ region: 'cn-hangzhou', 'vpc-id': 'vpc-abc' }, { RouteTableID: 7 })),
      (e: unknown) => e instanceof InvalidInputError && e.field === 'Backend.RouteTableID');
  });
});
