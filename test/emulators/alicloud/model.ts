// The emulated region: VPCs, their route tables and entries, ECS instances.
// Transitions (Pending → Available, Deleting → gone) are timestamps settled
// lazily at the start of every request, so the emulator runs no timers.
import { randomBytes } from 'node:crypto';
import { contains, equalCidr, overlaps, parseCidr, type Cidr } from '../../../src/net/cidr.ts';
import type { BusyCode } from './errors.ts';

export type EntryStatus = 'Pending' | 'Available' | 'Modifying' | 'Deleting';

export interface NextHopRecord {
  NextHopRegionId?: string;
  Weight?: number;
  NextHopId: string;
  /** 0 = the next hop is unusable; the emulator sets it on entries of released instances. */
  Enabled?: number;
  NextHopType: string;
  NextHopRelatedInfo?: { InstanceId: string; InstanceType: string; RegionId: string };
}

export interface EntryRecord {
  id: string;
  tableId: string;
  destination: string;
  name: string;
  description: string;
  type: string;
  ipVersion: string;
  nextHops: NextHopRecord[];
  origin: string;
  serviceType?: string | undefined;
  gmtModified: string;
  status: EntryStatus;
  /** When the current transition completes (Pending/Modifying → Available, Deleting → removed). */
  settlesAt?: number | undefined;
}

export interface TableRecord {
  id: string;
  vpcId: string;
  name: string;
  description: string;
  type: 'System' | 'Custom';
  routerId: string;
  routerType: string;
  associateType: string;
  resourceGroupId: string;
  ownerId: number;
  creationTime: string;
  status: string;
  tags: { Key: string; Value: string }[];
  vswitchIds: string[];
  gatewayIds: string[];
  routePropagationEnable: boolean;
  /** Custom-entry quota of this table; the region default when absent. */
  quota?: number | undefined;
  entries: Map<string, EntryRecord>;
}

export interface VpcRecord {
  id: string;
  cidr: string;
  vswitches: { id: string; cidr: string }[];
}

export interface InstanceRecord {
  id: string;
  vpcId: string;
  privateIps: string[];
  status: 'Running' | 'Stopped';
}

export interface WorldSettings {
  regionId: string;
  /** Pending → Available after a create (the API reference calls creation asynchronous). */
  pendingMs: number;
  /** Deleting → gone after a delete. */
  deletingMs: number;
  modifyingMs: number;
  /** Custom entries per route table (the reference says 200; older docs 48). */
  customQuota: number;
  /** MaxResult cap for DescribeRouteEntryList (reference: 1–100). */
  entryPageCap: number;
  /** PageSize cap for DescribeRouteTableList (reference: 50). */
  tablePageCap: number;
  /** Entries per CreateRouteEntries / DeleteRouteEntries call (reference: "up to 50"). */
  maxBatch: number;
  /** Where an unstable entry blocks other writes: the reference says the whole VPC. */
  conflictScope: 'vpc' | 'table';
  /** The code such a blocked write gets (the reference lists IncorrectRouteEntryStatus; TaskConflict is also seen). */
  busyCode: BusyCode;
  /** What becomes of custom entries whose instance is released (unsure in the record: a knob). */
  releasedInstanceRoutes: 'disable' | 'delete';
  ownerId: number;
}

export const DEFAULT_SETTINGS: WorldSettings = {
  regionId: 'cn-hangzhou',
  pendingMs: 2000,
  deletingMs: 2000,
  modifyingMs: 2000,
  customQuota: 200,
  entryPageCap: 100,
  tablePageCap: 50,
  maxBatch: 50,
  conflictScope: 'vpc',
  busyCode: 'IncorrectRouteEntryStatus',
  releasedInstanceRoutes: 'disable',
  ownerId: 1234567890123456,
};

export class World {
  settings: WorldSettings;
  readonly vpcs = new Map<string, VpcRecord>();
  readonly tables = new Map<string, TableRecord>();
  readonly instances = new Map<string, InstanceRecord>();
  /** Ids handed out next, before random ones (lets fidelity tests reproduce reference ids). */
  readonly idQueue: string[] = [];

  constructor(settings: Partial<WorldSettings> = {}) {
    this.settings = { ...DEFAULT_SETTINGS, ...settings };
  }

  clear(): void {
    this.vpcs.clear();
    this.tables.clear();
    this.instances.clear();
    this.idQueue.length = 0;
  }

  newId(prefix: string): string {
    return this.idQueue.shift() ?? `${prefix}-${randomBytes(10).toString('hex').slice(0, 20)}`;
  }

  settle(now: number): void {
    for (const t of this.tables.values()) {
      for (const e of [...t.entries.values()]) {
        if (e.settlesAt === undefined || e.settlesAt > now) continue;
        if (e.status === 'Deleting') t.entries.delete(e.id);
        else {
          e.status = 'Available';
          e.settlesAt = undefined;
        }
      }
    }
  }

  /** True while an entry in the conflict scope of `table` is between states. */
  busy(table: TableRecord): boolean {
    const scope = this.settings.conflictScope === 'vpc'
      ? [...this.tables.values()].filter((t) => t.vpcId === table.vpcId)
      : [table];
    return scope.some((t) => [...t.entries.values()].some((e) => e.status !== 'Available'));
  }

  quotaOf(table: TableRecord): number {
    return table.quota ?? this.settings.customQuota;
  }

  customCount(table: TableRecord): number {
    let n = 0;
    for (const e of table.entries.values()) if (e.type === 'Custom') n++;
    return n;
  }

  findByDestination(table: TableRecord, destination: Cidr): EntryRecord | undefined {
    for (const e of table.entries.values()) if (equalCidr(parseCidr(e.destination), destination)) return e;
    return undefined;
  }

  findEntry(id: string): EntryRecord | undefined {
    for (const t of this.tables.values()) {
      const e = t.entries.get(id);
      if (e) return e;
    }
    return undefined;
  }

  vswitchConflict(vpcId: string, destination: Cidr, strict: boolean): boolean {
    const vpc = this.vpcs.get(vpcId);
    return (vpc?.vswitches ?? []).some((v) => {
      const sw = parseCidr(v.cidr);
      return strict ? overlaps(sw, destination) : equalCidr(sw, destination) || contains(sw, destination);
    });
  }

  /** Marks or removes the custom entries that route to a released instance. */
  releaseInstance(id: string): void {
    this.instances.delete(id);
    for (const t of this.tables.values()) {
      for (const e of [...t.entries.values()]) {
        if (!e.nextHops.some((h) => h.NextHopType === 'Instance' && h.NextHopId === id)) continue;
        if (this.settings.releasedInstanceRoutes === 'delete') t.entries.delete(e.id);
        else for (const h of e.nextHops) if (h.NextHopId === id) h.Enabled = 0;
      }
    }
  }
}

export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
