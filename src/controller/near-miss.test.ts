import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { nearMisses, unmanagedReason } from './near-miss.ts';

const table = (id: string, tags: Record<string, string>) => ({ id, tags });

describe('near-miss route tables', () => {
  const cases: { description: string; want: { key: string; value?: string | undefined }; tags: Record<string, string>; hit: boolean }[] = [
    { description: 'value differs in case', want: { key: 'tartan.io/cluster', value: 'prod' }, tags: { 'tartan.io/cluster': 'Prod' }, hit: true },
    { description: 'value one edit away (typo in --cluster-name)', want: { key: 'tartan.io/cluster', value: 'prod' }, tags: { 'tartan.io/cluster': 'prd' }, hit: true },
    { description: 'kubernetes tag without --route-table-tag kubernetes', want: { key: 'tartan.io/cluster', value: 'prod' }, tags: { 'kubernetes.io/cluster/prod': 'owned' }, hit: true },
    { description: 'key under the same domain', want: { key: 'tartan.io/cluster', value: 'prod' }, tags: { 'tartan.io/clusters': 'x' }, hit: true },
    { description: 'key one edit away', want: { key: 'kubernetes.io/cluster/prod', value: undefined }, tags: { 'kubernetes.io/cluster/prd': 'owned' }, hit: true },
    { description: 'same key, another cluster entirely', want: { key: 'tartan.io/cluster', value: 'production' }, tags: { 'tartan.io/cluster': 'staging' }, hit: false },
    { description: 'unrelated tags', want: { key: 'tartan.io/cluster', value: 'prod' }, tags: { Name: 'main', team: 'web' }, hit: false },
  ];
  for (const c of cases) {
    test(c.description, () => {
      assert.equal(nearMisses(c.want, [table('rtb-1', c.tags)]).length, c.hit ? 1 : 0);
    });
  }

  test('the reason names the selector and each near miss', () => {
    assert.equal(unmanagedReason('tag tartan.io/cluster=prod', [{ table: 'rtb-1', tag: 'tartan.io/cluster=Prod' }]),
      'no route table matches tag tartan.io/cluster=prod; similar: rtb-1 (tartan.io/cluster=Prod)');
    assert.match(unmanagedReason('tag x=y', undefined), /cannot list/);
  });
});
