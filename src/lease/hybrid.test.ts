import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidInputError } from '../errors.ts';
import { formatRouteDomain, parseRouteDomainId, routeDomainSlug, routedIn } from './hybrid.ts';
import { testLease } from './testing.ts';

describe('route domain ids', () => {
  const cases: { id: string; parts: ReturnType<typeof parseRouteDomainId>; slug: string }[] = [
    { id: 'aws:vpc-0abc', parts: { cloud: 'aws', vpcId: 'vpc-0abc' }, slug: 'aws-vpc-0abc' },
    { id: 'ali:vpc-bp1', parts: { cloud: 'ali', vpcId: 'vpc-bp1' }, slug: 'ali-vpc-bp1' },
    { id: 'gce:projects/p-1/global/networks/n-2', parts: { cloud: 'gce', project: 'p-1', network: 'n-2' }, slug: 'gce-p-1.n-2' },
    { id: 'gce:projects/example.com:p/global/networks/n', parts: { cloud: 'gce', project: 'example.com:p', network: 'n' }, slug: 'gce-example.com:p.n' },
    { id: 'none', parts: undefined, slug: 'none' },
  ];
  for (const c of cases) {
    test(`${c.id}: parsed, formatted back, one key segment`, () => {
      assert.deepEqual(parseRouteDomainId(c.id, 'f'), c.parts);
      if (c.parts) assert.equal(formatRouteDomain(c.parts), c.id);
      assert.equal(routeDomainSlug(c.id), c.slug);
      assert.ok(!c.slug.includes('/'));
    });
  }

  test('GCE slugs keep project and network apart where "-" alone would not', () => {
    assert.notEqual(routeDomainSlug('gce:projects/a-b/global/networks/c'), routeDomainSlug('gce:projects/a/global/networks/b-c'));
  });

  for (const bad of ['aws:subnet-1', 'gce:p/n', 'azure:vnet-1', '', 'aws:vpc-1 x']) {
    test(`refuses ${JSON.stringify(bad)} naming the field`, () => {
      assert.throws(() => parseRouteDomainId(bad, '--route-domain'), (err: unknown) => err instanceof InvalidInputError && err.message.includes('--route-domain'));
    });
  }
});

describe('routedIn', () => {
  const lease = (domain?: string) => testLease({ subnet: '10.244.1.0/24', publicIp: '192.168.0.1', backendData: domain === undefined ? {} : { RouteDomain: domain } });
  const cases: { description: string; controller: string | undefined; lease: string | undefined; want: boolean }[] = [
    { description: 'same domain', controller: 'aws:vpc-1', lease: 'aws:vpc-1', want: true },
    { description: 'another VPC', controller: 'aws:vpc-1', lease: 'aws:vpc-2', want: false },
    { description: 'another cloud', controller: 'aws:vpc-1', lease: 'gce:projects/p/global/networks/n', want: false },
    { description: 'on-prem host', controller: 'aws:vpc-1', lease: 'none', want: false },
    { description: 'flannel host', controller: 'aws:vpc-1', lease: undefined, want: false },
    { description: 'no controller domain: any cloud', controller: undefined, lease: 'gce:projects/p/global/networks/n', want: true },
    { description: 'no controller domain: not none', controller: undefined, lease: 'none', want: false },
  ];
  for (const c of cases) test(c.description, () => assert.equal(routedIn(c.controller)(lease(c.lease)), c.want));
});
