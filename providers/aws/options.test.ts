import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidInputError } from '../../src/errors.ts';
import { silentLogger } from '../../src/observe/log.ts';
import type { ProviderStart } from '../shared/settings.ts';
import { DEFAULT_DESCRIBE, DEFAULT_MUTATING, kubernetesClusterTag, optionsFromFlags, resolveOptions, tableTag, tartanClusterTag } from './options.ts';

const base = { region: 'us-east-1', clusterNetworks: ['10.244.0.0/16'], routeTables: { ids: ['rtb-0123abcd'] }, env: {} };

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
  { description: 'no region, no AWS_REGION', opts: { ...base, region: undefined }, field: 'region' },
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

test('the region comes from AWS_REGION when the option is absent', () => {
  assert.equal(resolveOptions({ ...base, region: undefined, env: { AWS_REGION: 'eu-west-1' } }).region, 'eu-west-1');
});

describe('options from the CLI flags', () => {
  const start = (flags: Partial<ProviderStart['flags']>, env: Record<string, string> = {}, backend: Record<string, unknown> = {}): ProviderStart => ({
    flags: { 'cluster-name': 'prod', ...flags }, clusterNetworks: ['10.244.0.0/16'], env, logger: silentLogger(),
    backendOption: (name) => backend[name],
  });
  const cases = [
    { description: 'region from --region', start: start({ region: 'us-west-2' }, { AWS_REGION: 'eu-west-1' }), region: 'us-west-2' },
    { description: 'region from AWS_REGION', start: start({}, { AWS_REGION: 'eu-west-1' }), region: 'eu-west-1' },
  ];
  for (const c of cases) {
    test(c.description, () => assert.equal(optionsFromFlags(c.start).region, c.region));
  }
  test('no region at all is refused at start, naming --region', () => {
    assert.throws(() => optionsFromFlags(start({})), (err: unknown) => err instanceof InvalidInputError && err.field === '--region');
  });
  test('route tables: --route-table-ids, else Backend.RouteTableID, else the cluster tag', () => {
    assert.deepEqual(optionsFromFlags(start({ region: 'r', 'route-table-ids': ['rtb-1'] }, {}, { RouteTableID: 'rtb-2' })).routeTables, { ids: ['rtb-1'] });
    assert.deepEqual(optionsFromFlags(start({ region: 'r' }, {}, { RouteTableID: 'rtb-2' })).routeTables, { ids: ['rtb-2'] });
    assert.deepEqual(optionsFromFlags(start({ region: 'r' })).routeTables, { tag: tartanClusterTag('prod') });
  });
  const tags = [
    { description: 'default', flag: undefined, want: { key: 'tartan.io/cluster', value: 'prod' } },
    { description: 'kubernetes', flag: 'kubernetes', want: { key: 'kubernetes.io/cluster/prod' } },
    { description: 'key only', flag: 'team', want: { key: 'team' } },
    { description: 'key=value', flag: 'team=net', want: { key: 'team', value: 'net' } },
  ];
  for (const c of tags) test(`--route-table-tag: ${c.description}`, () => assert.deepEqual(tableTag(c.flag, 'prod'), c.want));
  test('--route-table-tag without a key is refused', () => {
    assert.throws(() => tableTag('=x', 'prod'), (err: unknown) => err instanceof InvalidInputError && err.field === '--route-table-tag');
  });
});
