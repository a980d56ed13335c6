// Seeding the emulated region (admin API): VPCs, route tables with the System
// entries a new table starts with, instances, and entries made by someone else.
import { formatCidr, parseCidr } from '../../../src/net/cidr.ts';
import { type EntryRecord, type EntryStatus, type NextHopRecord, type TableRecord, type World, isoSeconds } from './model.ts';

export interface VpcSeed {
  readonly id: string;
  readonly cidr: string;
  readonly vswitches?: readonly { readonly id: string; readonly cidr: string }[];
}

export interface TableSeed {
  readonly id: string;
  readonly vpcId: string;
  readonly name?: string;
  readonly description?: string;
  readonly type?: 'System' | 'Custom';
  readonly routerId?: string;
  readonly resourceGroupId?: string;
  readonly ownerId?: number;
  readonly creationTime?: string;
  readonly tags?: readonly { readonly Key: string; readonly Value: string }[];
  readonly vswitchIds?: readonly string[];
  readonly gatewayIds?: readonly string[];
  readonly associateType?: string;
  readonly routePropagationEnable?: boolean;
  readonly quota?: number;
  /** Skip the System entries (vSwitch CIDRs, 100.64.0.0/10) a new table starts with. */
  readonly noSystemEntries?: boolean;
}

export interface InstanceSeed {
  readonly id: string;
  readonly vpcId: string;
  readonly privateIps: readonly string[];
}

/** An entry as someone else (the console, another tool) left it: any field may be given. */
export interface EntrySeed {
  readonly tableId: string;
  readonly destination: string;
  readonly id?: string;
  readonly name?: string;
  readonly description?: string;
  readonly type?: string;
  readonly ipVersion?: string;
  readonly nextHops?: readonly NextHopRecord[];
  readonly origin?: string;
  readonly serviceType?: string;
  readonly gmtModified?: string;
  readonly status?: EntryStatus;
}

export function seedVpc(world: World, seed: VpcSeed): void {
  parseCidr(seed.cidr, 'vpc.cidr');
  world.vpcs.set(seed.id, { id: seed.id, cidr: seed.cidr, vswitches: (seed.vswitches ?? []).map((v) => ({ ...v })) });
}

export function seedTable(world: World, seed: TableSeed, now: number): TableRecord {
  const vpc = world.vpcs.get(seed.vpcId);
  if (!vpc) throw new Error(`seed table ${seed.id}: no VPC ${seed.vpcId}; seed the VPC first`);
  const table: TableRecord = {
    id: seed.id,
    vpcId: seed.vpcId,
    name: seed.name ?? '',
    description: seed.description ?? '',
    type: seed.type ?? 'Custom',
    routerId: seed.routerId ?? `vrt-${seed.vpcId.replace(/^vpc-/, '')}`,
    routerType: 'VRouter',
    associateType: seed.associateType ?? 'VSwitch',
    resourceGroupId: seed.resourceGroupId ?? '',
    ownerId: seed.ownerId ?? world.settings.ownerId,
    creationTime: seed.creationTime ?? isoSeconds(now),
    status: 'Available',
    tags: (seed.tags ?? []).map((t) => ({ ...t })),
    vswitchIds: [...(seed.vswitchIds ?? [])],
    gatewayIds: [...(seed.gatewayIds ?? [])],
    routePropagationEnable: seed.routePropagationEnable ?? true,
    quota: seed.quota,
    entries: new Map(),
  };
  world.tables.set(table.id, table);
  if (!seed.noSystemEntries) {
    for (const sw of vpc.vswitches) addSystemEntry(world, table, sw.cidr, 'local', now);
    addSystemEntry(world, table, '100.64.0.0/10', 'service', now);
  }
  return table;
}

export function seedInstance(world: World, seed: InstanceSeed): void {
  if (!world.vpcs.has(seed.vpcId)) throw new Error(`seed instance ${seed.id}: no VPC ${seed.vpcId}`);
  world.instances.set(seed.id, { id: seed.id, vpcId: seed.vpcId, privateIps: [...seed.privateIps], status: 'Running' });
}

export function seedEntry(world: World, seed: EntrySeed, now: number): EntryRecord {
  const table = world.tables.get(seed.tableId);
  if (!table) throw new Error(`seed entry: no route table ${seed.tableId}`);
  const entry: EntryRecord = {
    id: seed.id ?? world.newId('rte'),
    tableId: table.id,
    destination: formatCidr(parseCidr(seed.destination, 'entry.destination')),
    name: seed.name ?? '',
    description: seed.description ?? '',
    type: seed.type ?? 'Custom',
    ipVersion: seed.ipVersion ?? 'IPv4',
    nextHops: (seed.nextHops ?? []).map((h) => ({ ...h })),
    origin: seed.origin ?? 'CustomCreate',
    serviceType: seed.serviceType,
    gmtModified: seed.gmtModified ?? isoSeconds(now),
    status: seed.status ?? 'Available',
  };
  table.entries.set(entry.id, entry);
  return entry;
}

function addSystemEntry(world: World, table: TableRecord, cidr: string, hopType: string, now: number): void {
  seedEntry(world, {
    tableId: table.id,
    destination: cidr,
    type: 'System',
    nextHops: [{ NextHopId: '', NextHopType: hopType }],
    origin: 'SystemCreate',
  }, now);
}
