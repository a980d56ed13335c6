import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidInputError } from '../../src/errors.ts';
import { type AlicloudProviderOptions, resolveCredentials, resolveOptions } from './options.ts';

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
