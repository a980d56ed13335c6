import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidInputError } from '../../src/errors.ts';
import { DEFAULT_DESCRIBE, DEFAULT_MUTATING, kubernetesClusterTag, resolveOptions, tartanClusterTag } from './options.ts';

const base = { clusterNetworks: ['10.244.0.0/16'], routeTables: { ids: ['rtb-0123abcd'] } };

test('defaults: quota 50, buckets a little below EC2 documented 50/5 and 100/20, frozen', () => {
  const o = resolveOptions(base);
  assert.equal(o.routeQuota, 50);
  assert.deepEqual(o.mutating, DEFAULT_MUTATING);
  assert.deepEqual(o.describe, DEFAULT_DESCRIBE);
  assert.ok(DEFAULT_MUTATING.capacity < 50 && DEFAULT_MUTATING.refillPerSecond < 5);
  assert.ok(DEFAULT_DESCRIBE.capacity < 100 && DEFAULT_DESCRIBE.refillPerSecond < 20);
  assert.ok(Object.isFrozen(o));
});

test('cluster tags', () => {
  assert.deepEqual(kubernetesClusterTag('prod'), { key: 'kubernetes.io/cluster/prod' });
  assert.deepEqual(tartanClusterTag('prod'), { key: 'tartan.io/cluster', value: 'prod' });
});

const bad = [
  { description: 'no network', opts: { ...base, clusterNetworks: [] }, field: 'clusterNetworks' },
  { description: 'two IPv4 networks', opts: { ...base, clusterNetworks: ['10.0.0.0/16', '10.1.0.0/16'] }, field: 'clusterNetworks' },
  { description: 'host bits', opts: { ...base, clusterNetworks: ['10.244.0.1/16'] }, field: 'clusterNetworks[0]' },
  { description: 'no table ids', opts: { ...base, routeTables: { ids: [] } }, field: 'routeTables.ids' },
  { description: 'not a table id', opts: { ...base, routeTables: { ids: ['subnet-1'] } }, field: 'routeTables.ids' },
  { description: 'empty tag key', opts: { ...base, routeTables: { tag: { key: '' } } }, field: 'routeTables.tag.key' },
  { description: 'zero quota', opts: { ...base, routeQuota: 0 }, field: 'routeQuota' },
  { description: 'endpoint not a URL', opts: { ...base, endpoint: 'localhost:4566' }, field: 'endpoint' },
  { description: 'empty bucket', opts: { ...base, rateLimits: { mutating: { capacity: 0, refillPerSecond: 1 } } }, field: 'rateLimits.mutating' },
];
for (const c of bad) {
  test(`rejects ${c.description}, naming ${c.field}`, () => {
    assert.throws(() => resolveOptions(c.opts), (err: unknown) => err instanceof InvalidInputError && err.field === c.field);
  });
}
