import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidInputError } from '../errors.ts';
import { electionScope } from './election-scope.ts';

const DNS_1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

describe('electionScope', () => {
  const cases: { description: string; provider: string; domain: string; key: string; name: string | RegExp }[] = [
    { description: 'AWS VPC', provider: 'aws', domain: 'aws:vpc-0abc123', key: 'aws/aws-vpc-0abc123', name: 'tartan-aws-vpc-0abc123' },
    { description: 'Alibaba VPC', provider: 'alicloud', domain: 'ali:vpc-bp1xyz', key: 'alicloud/ali-vpc-bp1xyz', name: 'tartan-ali-vpc-bp1xyz' },
    { description: 'GCE network', provider: 'gce', domain: 'gce:projects/my-proj/global/networks/default', key: 'gce/gce-my-proj.default', name: 'tartan-gce-my-proj.default' },
    {
      description: 'GCE domain-scoped project (":" is no DNS character) → sanitised plus a hash',
      provider: 'gce', domain: 'gce:projects/example.com:proj/global/networks/net', key: 'gce/gce-example.com:proj.net', name: /^tartan-gce-example\.com-proj\.net-[0-9a-f]{8}$/,
    },
    {
      description: 'a name past 63 characters → cut, plus a hash',
      provider: 'gce', domain: `gce:projects/p-${'a'.repeat(26)}/global/networks/${'n'.repeat(60)}`, key: `gce/gce-p-${'a'.repeat(26)}.${'n'.repeat(60)}`, name: /^tartan-gce-p-a{26}.n{14}-[0-9a-f]{8}$/,
    },
  ];
  for (const c of cases) {
    test(c.description, () => {
      const scope = electionScope(c.provider, c.domain);
      assert.equal(scope.key, c.key);
      if (typeof c.name === 'string') assert.equal(scope.kubeLeaseName, c.name);
      else assert.match(scope.kubeLeaseName, c.name);
      assert.ok(scope.kubeLeaseName.length <= 63, `${scope.kubeLeaseName} is ${scope.kubeLeaseName.length} characters`);
      assert.match(scope.kubeLeaseName, DNS_1123_SUBDOMAIN);
    });
  }

  test('two domains that sanitise alike keep apart by the hash', () => {
    const a = electionScope('gce', 'gce:projects/example.com:proj/global/networks/net').kubeLeaseName;
    const b = electionScope('gce', 'gce:projects/example.com.proj/global/networks/net');
    assert.equal(b.kubeLeaseName, 'tartan-gce-example.com.proj.net');
    assert.notEqual(a, b.kubeLeaseName);
  });

  test('different networks, different keys and names; the same network, the same', () => {
    const all = ['aws:vpc-1', 'aws:vpc-2', 'gce:projects/a-b/global/networks/c', 'gce:projects/a/global/networks/b-c'];
    const scopes = all.map((d) => electionScope(d.startsWith('aws') ? 'aws' : 'gce', d));
    assert.equal(new Set(scopes.map((s) => s.key)).size, all.length);
    assert.equal(new Set(scopes.map((s) => s.kubeLeaseName)).size, all.length);
    assert.deepEqual(electionScope('aws', 'aws:vpc-1'), scopes[0]);
  });

  const refused: { description: string; provider: string; domain: string; field: string }[] = [
    { description: 'a provider that does not serve the domain\'s cloud', provider: 'aws', domain: 'gce:projects/p/global/networks/n', field: '--provider' },
    { description: 'route domain none', provider: 'aws', domain: 'none', field: 'route domain' },
    { description: 'not a route domain', provider: 'aws', domain: 'vpc-1', field: 'route domain' },
  ];
  for (const c of refused) {
    test(`refuses ${c.description}`, () => {
      assert.throws(() => electionScope(c.provider, c.domain), (err: unknown) => err instanceof InvalidInputError && err.message.includes(c.field));
    });
  }
});
