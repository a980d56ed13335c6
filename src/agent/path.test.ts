import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonValue, Lease } from '../lease/lease.ts';
import { testLease } from '../lease/testing.ts';
import { decodeRouteStatuses } from '../lease/route-status.ts';
import { choosePaths } from './path.ts';
import { parseRouteDomain } from './route-domain.ts';
import { InvalidInputError } from '../errors.ts';

const peer = (n: number, domain?: string, backendType = 'vxlan'): Lease => testLease({
  subnet: `10.244.${n}.0/24`, publicIp: `192.168.0.${n}`, backendType,
  backendData: { VNI: 1, VtepMAC: `02:00:00:00:00:0${n}`, ...(domain ? { RouteDomain: domain } : {}) },
});
const programmed: JsonValue = { state: 'programmed', tables: { 'rtb-1': 'programmed' } };
const VPC = 'aws:vpc-0abc';

describe('per-peer path choice', () => {
  const cases: { description: string; self: string; peer: Lease; status?: JsonValue; want: 'cloud' | 'kernel' }[] = [
    { description: 'same VPC, route programmed → the VPC routes it', self: VPC, peer: peer(1, VPC), status: programmed, want: 'cloud' },
    { description: 'same VPC, route still pending → kernel until programmed', self: VPC, peer: peer(1, VPC), status: { state: 'pending', tables: { 'rtb-1': 'pending' } }, want: 'kernel' },
    { description: 'same VPC, overflow → kernel', self: VPC, peer: peer(1, VPC), status: { state: 'overflow', tables: { 'rtb-1': 'overflow' } }, want: 'kernel' },
    { description: 'same VPC, no status (controller never ran) → kernel', self: VPC, peer: peer(1, VPC), want: 'kernel' },
    { description: 'other VPC, programmed there → kernel', self: VPC, peer: peer(1, 'aws:vpc-0other'), status: programmed, want: 'kernel' },
    { description: 'on-prem peer (none) → kernel', self: VPC, peer: peer(1, 'none'), status: programmed, want: 'kernel' },
    { description: 'flannel lease (no RouteDomain) → kernel, like flannel', self: VPC, peer: peer(1), status: programmed, want: 'kernel' },
    { description: 'this host on-prem → everything kernel', self: 'none', peer: peer(1, 'none'), status: programmed, want: 'kernel' },
    { description: 'garbage status value → kernel', self: VPC, peer: peer(1, VPC), status: 'programmed', want: 'kernel' },
  ];
  for (const c of cases) {
    test(c.description, () => {
      const { statuses } = decodeRouteStatuses(c.status === undefined ? [] : [[c.peer.key, JSON.stringify(c.status)]]);
      const plan = choosePaths({ routeDomain: c.self, peers: [c.peer], status: statuses });
      assert.equal(plan.cloud.length === 1 ? 'cloud' : 'kernel', c.want);
      assert.equal(plan.cloud.length + plan.kernel.length, 1);
    });
  }
});

describe('route domain flag', () => {
  for (const ok of ['none', 'aws:vpc-0abc', 'gce:projects/p/global/networks/n', 'ali:vpc-xyz1']) {
    test(`accepts ${ok}`, () => assert.equal(parseRouteDomain(ok).id, ok));
  }
  for (const bad of ['', 'aws', 'aws:subnet-1', 'azure:vnet-1', 'gce:default', 'ali:vtb-1']) {
    test(`rejects ${JSON.stringify(bad)}`, () => assert.throws(() => parseRouteDomain(bad), InvalidInputError));
  }
});
