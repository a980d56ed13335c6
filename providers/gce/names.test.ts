import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { InvalidInputError } from '../../src/errors.ts';
import { formatCidr } from '../../src/net/cidr.ts';
import { GCE_NAME, MAX_NAME, routeNaming } from './names.ts';

const cases: { description: string; cluster: string; destination: string; name?: string; maxLen?: number }[] = [
  { description: 'IPv4 /24', cluster: 'prod', destination: '10.244.3.0/24', name: 'tartan-prod-10-244-3-0-24' },
  { description: 'IPv4 host route', cluster: 'prod', destination: '10.244.3.7/32', name: 'tartan-prod-10-244-3-7-32' },
  { description: 'IPv6 compressed', cluster: 'prod', destination: 'fd00:10:244:3::/64', name: 'tartan-prod-fd00-10-244-3---64' },
  { description: 'IPv6 spelled long is named canonically', cluster: 'prod', destination: 'fd00:0010:0244:0003:0:0:0:0/64', name: 'tartan-prod-fd00-10-244-3---64' },
  { description: 'IPv6 upper case is named canonically', cluster: 'prod', destination: 'FD00:10:244:3::/64', name: 'tartan-prod-fd00-10-244-3---64' },
  { description: 'long IPv6 is shortened with a hash', cluster: 'prod', destination: 'fd00:1234:5678:9abc:def0:1234:5678:9a00/120', maxLen: MAX_NAME },
  { description: 'long cluster name is shortened in the prefix', cluster: 'a-very-long-cluster-name-for-testing', destination: '10.244.3.0/24', maxLen: MAX_NAME },
  { description: '63-char cluster name and long IPv6', cluster: `c${'x'.repeat(61)}z`, destination: 'fd00:1234:5678:9abc:def0:1234:5678:9a00/120', maxLen: MAX_NAME },
];

for (const c of cases) {
  test(`route name: ${c.description}`, () => {
    const naming = routeNaming(c.cluster);
    const name = naming.nameFor(c.destination);
    if (c.name) assert.equal(name, c.name);
    assert.ok(name.length <= (c.maxLen ?? MAX_NAME), `${name} is ${name.length} chars`);
    assert.match(name, GCE_NAME);
    assert.ok(name.startsWith(naming.prefix), `${name} starts with ${naming.prefix}`);
    assert.equal(naming.nameFor(c.destination), name, 'stable');
  });
}

test('prefix and marker', () => {
  assert.equal(routeNaming('prod').prefix, 'tartan-prod-');
  assert.equal(routeNaming('prod').marker, 'tartan:prod');
  const long = routeNaming('a-very-long-cluster-name-for-testing');
  assert.match(long.prefix, /^tartan-a-very-long-[0-9a-f]{6}-$/);
  assert.notEqual(long.prefix, routeNaming('a-very-long-cluster-name-for-other').prefix, 'different long clusters get different prefixes');
  assert.equal(long.marker, 'tartan:a-very-long-cluster-name-for-testing');
});

test('invalid cluster names are refused with the field named', () => {
  for (const bad of ['', 'Prod', 'prod_1', '-prod', 'prod-', 'x'.repeat(64)]) {
    assert.throws(() => routeNaming(bad), (e: unknown) => e instanceof InvalidInputError && e.field === 'clusterName', bad);
  }
});

test('host bits in the destination are refused', () => {
  assert.throws(() => routeNaming('prod').nameFor('10.244.3.1/24'), InvalidInputError);
});

const ipv4 = fc.tuple(fc.nat(0xffffffff), fc.integer({ min: 0, max: 32 })).map(([a, p]) => {
  const addr = p === 0 ? 0n : (BigInt(a) >> BigInt(32 - p)) << BigInt(32 - p);
  return formatCidr({ family: 4, addr, prefix: p });
});
const ipv6 = fc.tuple(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), fc.integer({ min: 0, max: 128 })).map(([a, p]) => {
  const addr = p === 0 ? 0n : (a >> BigInt(128 - p)) << BigInt(128 - p);
  return formatCidr({ family: 6, addr, prefix: p });
});
const clusters = fc.constantFrom('p', 'prod', 'a-very-long-cluster-name-for-testing', `c${'x'.repeat(61)}z`);

test('every name is a valid GCE name of at most 63 chars (IPv4 and IPv6)', () => {
  fc.assert(fc.property(clusters, fc.oneof(ipv4, ipv6), (cluster, dest) => {
    const name = routeNaming(cluster).nameFor(dest);
    return name.length <= MAX_NAME && GCE_NAME.test(name) && name.startsWith(routeNaming(cluster).prefix);
  }), { numRuns: 2000 });
});

test('different subnets get different names (IPv4 and IPv6, shortened or not)', () => {
  fc.assert(fc.property(clusters, fc.oneof(ipv4, ipv6), fc.oneof(ipv4, ipv6), (cluster, a, b) => {
    fc.pre(a !== b);
    const naming = routeNaming(cluster);
    return naming.nameFor(a) !== naming.nameFor(b);
  }), { numRuns: 2000 });
  // Neighbours that differ only past the shortened part still differ (through the hash).
  const naming = routeNaming(`c${'x'.repeat(61)}z`);
  const names = new Set(Array.from({ length: 256 }, (_, i) => naming.nameFor(`fd00:1234:5678:9abc:def0:1234:5678:${(i * 256).toString(16)}/120`)));
  assert.equal(names.size, 256);
});
