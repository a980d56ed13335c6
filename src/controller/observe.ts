// How the controller and `tartan audit` observe the cloud and the lease set, once,
// so both judge drift from the same inputs. Read calls only: this file sees the
// provider through RouteTableReader, never the writer half.
import { publishedInstanceId } from '../lease/hybrid.ts';
import { type Lease, parseSubnetKey } from '../lease/lease.ts';
import type { LeaseSnapshot } from '../lease/store.ts';
import type { InvalidLease } from '../lease/validate.ts';
import { formatCidr } from '../net/cidr.ts';
import type { HostRef, RouteTableReader } from '../../providers/route-table.ts';
import type { TableObservation } from './drift.ts';

export interface ObservedTable extends TableObservation {
  /** The table's human name where the cloud has one (AWS Name tag, Alibaba table name). */
  readonly name?: string | undefined;
}

/** Every managed table: its routes and its capacity. One listing per table; tables in parallel. */
export async function observeTables(provider: RouteTableReader, signal: AbortSignal): Promise<ObservedTable[]> {
  const refs = await provider.tables(signal);
  return await Promise.all(refs.map(async (ref) => {
    const listing = await provider.listRoutes(ref.id, signal);
    const capacity = await provider.capacity(ref.id, signal);
    return { table: ref.id, name: ref.name, listing, capacity };
  }));
}

/** How a lease's host is looked up: its PublicIP, and the instance id its agent published (hybrid mode) when there is one. */
export function hostRef(lease: Lease): HostRef {
  return { publicIp: lease.attrs.publicIp, instanceId: publishedInstanceId(lease) };
}

/**
 * Subnets of leases whose value does not parse, and of leases the validator set
 * aside: their routes are never deleted on that account (fail static).
 */
export function protectedDestinations(snapshot: Pick<LeaseSnapshot, 'skipped'>, invalid: readonly InvalidLease[] = []): Set<string> {
  const out = new Set<string>(invalid.map((i) => i.would.subnet));
  for (const s of snapshot.skipped) {
    try {
      out.add(formatCidr(parseSubnetKey(s.key).subnet));
    } catch {
      // Not even the key parses: there is no subnet to protect.
    }
  }
  return out;
}
