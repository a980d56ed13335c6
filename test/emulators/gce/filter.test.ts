import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matches, parseFilter } from './filter.ts';
import { ApiError } from './resources.ts';

const route = {
  name: 'tartan-prod-10-244-3-0-24', priority: 1000, destRange: '10.244.3.0/24',
  network: 'https://www.googleapis.com/compute/v1/projects/p/global/networks/net-1',
  networkInterfaces: [{ networkIP: '10.0.0.2' }, { networkIP: '10.1.0.2' }],
};

const cases: { description: string; filter: string; match: boolean }[] = [
  { description: 'empty filter matches', filter: '', match: true },
  { description: 'regex eq, unquoted', filter: 'name eq tartan-prod-.*', match: true },
  { description: 'regex must match the whole field', filter: 'name eq tartan-prod', match: false },
  { description: 'regex eq, double quoted', filter: 'name eq "tartan-(prod|dev)-.*"', match: true },
  { description: "regex eq, single quoted", filter: "name eq 'tartan-dev-.*'", match: false },
  { description: 'regex ne', filter: 'name ne "tartan-dev-.*"', match: true },
  { description: 'network URL by regex', filter: 'network eq ".*/global/networks/net-1"', match: true },
  { description: 'conjunction of parenthesized terms', filter: '(name eq "tartan-.*") (network eq ".*/net-1")', match: true },
  { description: 'conjunction with one miss', filter: '(name eq "tartan-.*") (network eq ".*/net-2")', match: false },
  { description: 'numbers compare as text', filter: 'priority eq 1000', match: true },
  { description: 'AIP-160 equality', filter: 'name = "tartan-prod-10-244-3-0-24"', match: true },
  { description: 'AIP-160 inequality', filter: 'name != tartan-prod-10-244-3-0-24', match: false },
  { description: 'AIP-160 explicit AND without parentheses', filter: 'priority = 1000 AND destRange = "10.244.3.0/24"', match: true },
  { description: 'AIP-160 OR', filter: '(name = x) OR (priority = 1000)', match: true },
  { description: 'AND binds tighter than OR', filter: '(name = x) OR (name = y) AND (priority = 1000)', match: false },
  { description: 'nested path over an array: any element', filter: 'networkInterfaces.networkIP eq 10\\.1\\.0\\.2', match: true },
  { description: 'missing field never equals', filter: 'description eq .*', match: false },
];

for (const c of cases) {
  test(`filter: ${c.description}`, () => {
    assert.equal(matches(parseFilter(c.filter), route), c.match);
  });
}

test('bad filters are 400 invalid', () => {
  for (const bad of ['(name eq x) (name = y)', 'name', '(name eq x', 'name eq "unterminated', 'name eq ([', 'name eq']) {
    assert.throws(() => parseFilter(bad), (e: unknown) => e instanceof ApiError && e.status === 400 && e.reason === 'invalid', bad);
  }
});
