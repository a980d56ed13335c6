import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseNetworkConfig } from '../config/network.ts';
import { type Cidr, contains, formatCidr, normalize, overlaps, parseCidr } from '../net/cidr.ts';
import { fitsPool, freeSubnets, pickFreeSubnet } from './allocate.ts';
import { planAcquire } from './acquire.ts';
import { type Lease, parseSubnetKey } from './lease.ts';
import { testLease } from './testing.ts';

const lease = (key: string, publicIp: string, reservation = false): Lease => testLease({ ...parseSubnetKey(key), publicIp, reservation });

describe('subnet allocation', () => {
  test('property: allocated subnets never overlap, stay in [SubnetMin, SubnetMax], aligned to SubnetLen', () => {
    const configArb = fc.record({
      octet: fc.integer({ min: 0, max: 255 }),
      prefix: fc.integer({ min: 8, max: 26 }),
      extra: fc.integer({ min: 2, max: 6 }),
      v6: fc.boolean(),
    });
    fc.assert(
      fc.property(configArb, fc.integer({ min: 1, max: 40 }), fc.integer(), ({ octet, prefix, extra, v6 }, count, seed) => {
        const net = formatCidr(normalize(parseCidr(`${octet}.${octet}.0.0/${prefix}`, 'n', { allowHostBits: true })));
        const json: Record<string, unknown> = { Network: net, SubnetLen: Math.min(30, prefix + extra) };
        if (v6) Object.assign(json, { EnableIPv6: true, IPv6Network: 'fd00::/48' });
        const config = parseNetworkConfig(JSON.stringify(json));
        const pool = config.ipv4!;
        let state = seed;
        const random = (): number => ((state = (state * 1103515245 + 12345) & 0x7fffffff) / 0x80000000);
        const leases: Lease[] = [];
        for (let i = 0; i < count; i++) {
          const plan = planAcquire({ config, leases, req: { attrs: { publicIp: `192.0.2.${i}`, backendType: 'vxlan' } }, random });
          if (plan.kind === 'exhausted') break;
          assert.equal(plan.kind, 'create');
          if (plan.kind !== 'create') return;
          const key = `${formatCidr(plan.subnet).replace('/', '-')}${plan.ipv6Subnet ? `&${formatCidr(plan.ipv6Subnet).replace('/', '-')}` : ''}`;
          leases.push(lease(key, `192.0.2.${i}`));
        }
        const subnets = leases.map((l) => l.subnet);
        for (const [i, s] of subnets.entries()) {
          assert.ok(fitsPool(pool, s), `${formatCidr(s)} fits the pool`);
          assert.equal(s.prefix, pool.subnetLen);
          assert.ok(s.addr >= pool.subnetMin.addr && s.addr <= pool.subnetMax.addr);
          for (const other of subnets.slice(i + 1)) assert.ok(!overlaps(s, other), `${formatCidr(s)} overlaps ${formatCidr(other)}`);
        }
        const v6s = leases.map((l) => l.ipv6Subnet).filter((x): x is Cidr => x !== undefined);
        if (v6) assert.equal(new Set(v6s.map(formatCidr)).size, leases.length);
      }),
      { numRuns: 200 },
    );
  });

  test('scans from SubnetMin and stops at 100 candidates', () => {
    const pool = parseNetworkConfig('{"Network":"10.0.0.0/8"}').ipv4!;
    const free = freeSubnets(pool, [parseCidr('10.0.1.0/24'), parseCidr('10.0.3.0/24')], 100);
    assert.equal(free.length, 100);
    assert.equal(formatCidr(free[0]!), '10.0.2.0/24');
    assert.equal(formatCidr(free[1]!), '10.0.4.0/24');
  });

  test('nothing free → undefined', () => {
    const pool = parseNetworkConfig('{"Network":"10.0.0.0/22"}').ipv4!;
    const taken = ['10.0.1.0/24', '10.0.2.0/24', '10.0.3.0/24'].map((c) => parseCidr(c));
    assert.equal(pickFreeSubnet(pool, taken), undefined);
    assert.ok(contains(pool.network, pool.subnetMin));
  });
});

describe('planAcquire (flannel order)', () => {
  const config = parseNetworkConfig('{"Network":"10.0.0.0/16"}');
  const req = (publicIp: string, previous?: string) => ({ attrs: { publicIp, backendType: 'vxlan' }, previous: previous ? { subnet: parseCidr(previous) } : undefined });
  const cases: { description: string; leases: Lease[]; req: ReturnType<typeof req>; want: string; deletes?: string[] }[] = [
    { description: 'own PublicIP lease that fits is reused', leases: [lease('10.0.7.0-24', '1.1.1.1')], req: req('1.1.1.1', '10.0.9.0/24'), want: 'reuse 10.0.7.0-24' },
    { description: 'own lease that no longer fits is deleted, previous subnet used', leases: [lease('10.1.7.0-24', '1.1.1.1')], req: req('1.1.1.1', '10.0.9.0/24'), want: 'create 10.0.9.0/24', deletes: ['10.1.7.0-24'] },
    { description: 'own reservation is reused', leases: [lease('10.0.4.0-24', '1.1.1.1', true)], req: req('1.1.1.1'), want: 'reuse 10.0.4.0-24' },
    { description: 'previous subnet taken by someone else → random free', leases: [lease('10.0.9.0-24', '2.2.2.2')], req: req('1.1.1.1', '10.0.9.0/24'), want: 'create random' },
    { description: 'previous subnet outside the pool → random free', leases: [], req: req('1.1.1.1', '10.0.0.0/24'), want: 'create random' },
    { description: "another host's reservation is never taken", leases: [lease('10.0.1.0-24', '2.2.2.2', true)], req: req('1.1.1.1', '10.0.1.0/24'), want: 'create random' },
  ];
  for (const c of cases) {
    test(c.description, () => {
      const plan = planAcquire({ config, leases: c.leases, req: c.req, random: () => 0 });
      const got = plan.kind === 'reuse' ? `reuse ${plan.lease.key}` : plan.kind === 'create' ? `create ${formatCidr(plan.subnet)}` : 'exhausted';
      if (c.want === 'create random') {
        assert.equal(plan.kind, 'create');
        if (plan.kind === 'create') assert.ok(!c.leases.some((l) => overlaps(l.subnet, plan.subnet)));
      } else assert.equal(got, c.want);
      assert.deepEqual(plan.deleteKeys, c.deletes ?? []);
    });
  }
});
