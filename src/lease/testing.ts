// The one way tests build a Lease by hand (no store, no I/O): name what the test is
// about, the rest defaults. Production code never imports it.
import { type Cidr, parseCidr } from '../net/cidr.ts';
import { type JsonValue, type Lease, subnetKey } from './lease.ts';

export interface TestLeaseSpec {
  /** `10.5.1.0/24` (or a parsed Cidr); the key follows from it and `ipv6Subnet`. */
  readonly subnet: string | Cidr;
  readonly ipv6Subnet?: string | Cidr | undefined;
  /** Default 192.0.2.1. */
  readonly publicIp?: string;
  readonly publicIpv6?: string | undefined;
  /** Default vxlan. */
  readonly backendType?: string;
  readonly backendData?: JsonValue | undefined;
  readonly backendV6Data?: JsonValue | undefined;
  readonly reservation?: boolean;
  /** Default 1. */
  readonly revision?: number;
  readonly createdRevision?: number;
  readonly expiresAt?: number;
}

/** A Lease as a store would return it; optional fields appear only when given. */
export function testLease(spec: TestLeaseSpec): Lease {
  const subnet = cidr(spec.subnet);
  const ipv6Subnet = spec.ipv6Subnet === undefined ? undefined : cidr(spec.ipv6Subnet);
  return {
    key: subnetKey(subnet, ipv6Subnet),
    subnet,
    ...(ipv6Subnet ? { ipv6Subnet } : {}),
    attrs: {
      publicIp: spec.publicIp ?? '192.0.2.1',
      ...(spec.publicIpv6 !== undefined ? { publicIpv6: spec.publicIpv6 } : {}),
      backendType: spec.backendType ?? 'vxlan',
      ...(spec.backendData !== undefined ? { backendData: spec.backendData } : {}),
      ...(spec.backendV6Data !== undefined ? { backendV6Data: spec.backendV6Data } : {}),
    },
    reservation: spec.reservation ?? false,
    revision: spec.revision ?? 1,
    ...(spec.createdRevision !== undefined ? { createdRevision: spec.createdRevision } : {}),
    ...(spec.expiresAt !== undefined ? { expiresAt: spec.expiresAt } : {}),
  };
}

function cidr(c: string | Cidr): Cidr {
  return typeof c === 'string' ? parseCidr(c, 'testLease subnet') : c;
}
