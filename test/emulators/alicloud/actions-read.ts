// DescribeRouteTableList and DescribeRouteEntryList, answering with the field
// names and key order of the API reference's sample responses.
import { equalCidr, parseCidr } from '../../../src/net/cidr.ts';
import { apiErrors } from './errors.ts';
import type { EntryRecord, TableRecord } from './model.ts';
import { type ActionContext, integer, optional, repeated, repeatedValues, required } from './params.ts';
import { parseDestination } from './routes.ts';

const ENTRY_TYPES = new Set(['Custom', 'System', 'BGP', 'CEN', 'ECR']);

export function describeRouteTableList(ctx: ActionContext): Record<string, unknown> {
  const p = ctx.params;
  required(p, 'RegionId');
  const pageNumber = integer(p, 'PageNumber', { min: 1, max: 1_000_000, fallback: 1 });
  const pageSize = integer(p, 'PageSize', { min: 1, max: 50, fallback: 10 });
  const tags = repeated(p, 'Tag');
  const match = (t: TableRecord): boolean =>
    (!optional(p, 'VpcId') || t.vpcId === p.VpcId) &&
    (!optional(p, 'RouteTableId') || t.id === p.RouteTableId) &&
    (!optional(p, 'RouteTableName') || t.name === p.RouteTableName) &&
    (!optional(p, 'RouteTableType') || t.type === p.RouteTableType) &&
    (!optional(p, 'RouterId') || t.routerId === p.RouterId) &&
    (!optional(p, 'ResourceGroupId') || t.resourceGroupId === p.ResourceGroupId) &&
    (!optional(p, 'RouterType') || t.routerType === p.RouterType) &&
    tags.every((tag) => t.tags.some((x) => x.Key === tag.Key && (tag.Value === undefined || x.Value === tag.Value)));
  const all = [...ctx.world.tables.values()].filter(match);
  const effective = Math.min(pageSize, ctx.world.settings.tablePageCap);
  const page = all.slice((pageNumber - 1) * effective, pageNumber * effective);
  return {
    RequestId: ctx.requestId,
    PageSize: effective,
    PageNumber: pageNumber,
    TotalCount: all.length,
    RouterTableList: { RouterTableListType: page.map(tableJson) },
  };
}

export function tableJson(t: TableRecord): Record<string, unknown> {
  return {
    VpcId: t.vpcId,
    CreationTime: t.creationTime,
    Status: t.status,
    RouterId: t.routerId,
    AssociateType: t.associateType,
    RouteTableId: t.id,
    OwnerId: t.ownerId,
    Description: t.description,
    RouteTableType: t.type,
    ResourceGroupId: t.resourceGroupId,
    RouterType: t.routerType,
    RouteTableName: t.name,
    Tags: { Tag: t.tags.map((x) => ({ Key: x.Key, Value: x.Value })) },
    VSwitchIds: { VSwitchId: [...t.vswitchIds] },
    GatewayIds: { GatewayIds: [...t.gatewayIds] },
    RoutePropagationEnable: t.routePropagationEnable,
  };
}

export function describeRouteEntryList(ctx: ActionContext): Record<string, unknown> {
  const p = ctx.params;
  required(p, 'RegionId');
  const table = ctx.world.tables.get(required(p, 'RouteTableId'));
  if (!table) throw apiErrors.routeTableNotFoundForList();
  const maxResult = integer(p, 'MaxResult', { min: 1, max: 100, fallback: 10 });
  const type = optional(p, 'RouteEntryType');
  if (type !== undefined && !ENTRY_TYPES.has(type)) throw apiErrors.invalidParameter('RouteEntryType', 'unknown route type');
  if (type !== undefined && type !== 'Custom' && (optional(p, 'RouteEntryId') || optional(p, 'RouteEntryName'))) {
    throw apiErrors.filterUnderWrongType();
  }
  const matching = [...table.entries.values()].filter(entryFilter(ctx));
  const offset = readToken(optional(p, 'NextToken'), table.id);
  const size = Math.min(maxResult, ctx.world.settings.entryPageCap);
  const page = matching.slice(offset, offset + size);
  const more = offset + size < matching.length;
  return {
    NextToken: more ? makeToken(table.id, offset + size) : '',
    RequestId: ctx.requestId,
    RouteEntrys: { RouteEntry: page.map(entryJson) },
  };
}

function entryFilter(ctx: ActionContext): (e: EntryRecord) => boolean {
  const p = ctx.params;
  const dest = optional(p, 'DestinationCidrBlock');
  const destCidr = dest === undefined ? undefined : parseDestination(dest, 'DestinationCidrBlock');
  const destList = repeatedValues(p, 'DestCidrBlockList').map((d) => parseDestination(d, 'DestCidrBlockList'));
  const ipVersion = optional(p, 'IpVersion')?.toLowerCase();
  return (e) =>
    (!optional(p, 'RouteEntryId') || e.id === p.RouteEntryId) &&
    (!optional(p, 'RouteEntryName') || e.name === p.RouteEntryName) &&
    (!optional(p, 'RouteEntryType') || e.type === p.RouteEntryType) &&
    (!ipVersion || e.ipVersion.toLowerCase() === ipVersion) &&
    (!optional(p, 'NextHopId') || e.nextHops.some((h) => h.NextHopId === p.NextHopId)) &&
    (!optional(p, 'NextHopType') || e.nextHops.some((h) => h.NextHopType === p.NextHopType)) &&
    (!destCidr || equalCidr(parseCidr(e.destination), destCidr)) &&
    (destList.length === 0 || destList.some((d) => equalCidr(parseCidr(e.destination), d)));
}

export function entryJson(e: EntryRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {
    Status: e.status,
    Type: e.type,
    IpVersion: e.ipVersion,
    Description: e.description,
    RouteEntryName: e.name,
    DestinationCidrBlock: e.destination,
    RouteEntryId: e.id,
    RouteTableId: e.tableId,
    GmtModified: e.gmtModified,
    NextHops: { NextHop: e.nextHops.map((h) => ({ ...h })) },
  };
  if (e.serviceType !== undefined) out.ServiceType = e.serviceType;
  out.Origin = e.origin;
  return out;
}

function makeToken(tableId: string, offset: number): string {
  return Buffer.from(JSON.stringify({ t: tableId, o: offset })).toString('base64url');
}

function readToken(token: string | undefined, tableId: string): number {
  if (token === undefined) return 0;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString()) as { t?: unknown; o?: unknown };
    if (parsed.t === tableId && typeof parsed.o === 'number' && Number.isInteger(parsed.o) && parsed.o >= 0) return parsed.o;
  } catch {
    // falls through to the API's own error
  }
  throw apiErrors.illegalNextToken();
}
