// DescribeRouteTables and DescribeInstances: selection (ids, filters, paging) and
// the XML EC2 answers with (element order as in the EC2 API reference examples).
import { fault } from './faults.ts';
import type { Ec2Model, Instance, Route, RouteTable } from './model.ts';
import { type Filter, type Params, filters, indexed, matchesAny, maxResults, page } from './query.ts';
import { type XmlNode, el, list, parent } from './xml.ts';

const STATE_CODES: Readonly<Record<Instance['state'], number>> = {
  pending: 0, running: 16, 'shutting-down': 32, terminated: 48, stopping: 64, stopped: 80,
};

export function describeRouteTables(model: Ec2Model, params: Params, pageCap: number): XmlNode[] {
  const ids = indexed(params, 'RouteTableId');
  let tables = ids.length > 0 ? ids.map((id) => model.table(id)) : [...model.tables.values()];
  for (const f of filters(params)) tables = tables.filter(tableFilter(f));
  const { items, nextToken } = page(tables, (t) => t.id, params, pageCap, maxResults(params, 100) ?? Infinity);
  return [list('routeTableSet', items, (t) => renderTable(model, t)), ...optional(el('nextToken', nextToken))];
}

export function describeInstances(model: Ec2Model, params: Params, pageCap: number): XmlNode[] {
  const ids = indexed(params, 'InstanceId');
  const limit = maxResults(params, 1000);
  if (ids.length > 0 && limit !== undefined) throw fault.combination('The parameter instancesSet cannot be used with the parameter maxResults');
  let instances = ids.length > 0 ? ids.map((id) => model.instance(id)) : [...model.instances.values()];
  for (const f of filters(params)) instances = instances.filter(instanceFilter(f));
  const { items, nextToken } = page(instances, (i) => i.id, params, pageCap, limit ?? Infinity);
  // One reservation per instance: each was launched on its own.
  const reservations = list('reservationSet', items, (i) => [
    el('reservationId', `r-${i.id.slice(2)}`), el('ownerId', i.ownerId), parent('groupSet', []),
    list('instancesSet', [i], (x) => renderInstance(x)),
  ]);
  return [reservations, ...optional(el('nextToken', nextToken))];
}

/** Whether a request names what it wants: such describes draw on the ordinary read bucket. */
export function isFilteredOrPaged(params: Params): boolean {
  return [...params.keys()].some((k) => /^(Filter\.|RouteTableId\.|InstanceId\.|MaxResults$|NextToken$)/.test(k));
}

/** A predicate for one filter; an unknown filter name fails the request even when nothing would be filtered. */
function tableFilter(f: Filter): (t: RouteTable) => boolean {
  const match = (pick: (t: RouteTable) => readonly (string | undefined)[]) => (t: RouteTable) => matchesAny(f.values, pick(t));
  if (f.name.startsWith('tag:')) return match((t) => [t.tags.get(f.name.slice(4))]);
  switch (f.name) {
    case 'vpc-id': return match((t) => [t.vpcId]);
    case 'route-table-id': return match((t) => [t.id]);
    case 'owner-id': return match((t) => [t.ownerId]);
    case 'tag-key': return match((t) => [...t.tags.keys()]);
    case 'association.main': return match((t) => t.associations.map((a) => String(a.main)));
    case 'route.destination-cidr-block': return match((t) => t.routes.map((r) => r.destination));
    default: throw fault.badFilter(f.name);
  }
}

function instanceFilter(f: Filter): (i: Instance) => boolean {
  const match = (pick: (i: Instance) => readonly (string | undefined)[]) => (i: Instance) => matchesAny(f.values, pick(i));
  if (f.name.startsWith('tag:')) return match((i) => [i.tags.get(f.name.slice(4))]);
  switch (f.name) {
    case 'instance-id': return match((i) => [i.id]);
    case 'vpc-id': return match((i) => [i.vpcId]);
    case 'instance-state-name': return match((i) => [i.state]);
    case 'private-ip-address': return match((i) => [i.enis[0]?.privateIps[0]]);
    case 'network-interface.addresses.private-ip-address': return match((i) => i.enis.flatMap((e) => e.privateIps));
    case 'network-interface.network-interface-id': return match((i) => i.enis.map((e) => e.id));
    case 'tag-key': return match((i) => [...i.tags.keys()]);
    default: throw fault.badFilter(f.name);
  }
}

function renderTable(model: Ec2Model, t: RouteTable): (XmlNode | undefined)[] {
  return [
    el('routeTableId', t.id), el('vpcId', t.vpcId), el('ownerId', t.ownerId),
    list('routeSet', t.routes, (r) => renderRoute(model, r, t.ownerId)),
    list('associationSet', t.associations, (a) => [el('routeTableAssociationId', a.id), el('routeTableId', t.id), el('subnetId', a.subnetId), el('main', a.main)]),
    parent('propagatingVgwSet', []),
    list('tagSet', [...t.tags], ([key, value]) => [el('key', key), el('value', value)]),
  ];
}

function renderRoute(model: Ec2Model, r: Route, ownerId: string): (XmlNode | undefined)[] {
  const t = r.target;
  return [
    el(r.family === 4 ? 'destinationCidrBlock' : 'destinationIpv6CidrBlock', r.destination),
    el('gatewayId', t.gatewayId), el('instanceId', t.instanceId),
    el('instanceOwnerId', t.instanceId === undefined ? undefined : (model.instances.get(t.instanceId)?.ownerId ?? ownerId)),
    el('natGatewayId', t.natGatewayId), el('networkInterfaceId', t.networkInterfaceId),
    el('vpcPeeringConnectionId', t.vpcPeeringConnectionId),
    el('state', model.routeState(r)), el('origin', r.origin),
  ];
}

function renderInstance(i: Instance): (XmlNode | undefined)[] {
  const primary = i.enis[0];
  return [
    el('instanceId', i.id),
    parent('instanceState', [el('code', STATE_CODES[i.state]), el('name', i.state)]),
    el('privateDnsName', primary ? dnsName(primary.privateIps[0]!) : ''),
    el('vpcId', i.vpcId),
    el('privateIpAddress', primary?.privateIps[0]),
    el('sourceDestCheck', primary?.sourceDestCheck),
    list('tagSet', [...i.tags], ([key, value]) => [el('key', key), el('value', value)]),
    list('networkInterfaceSet', i.enis, (e) => [
      el('networkInterfaceId', e.id), el('vpcId', i.vpcId), el('ownerId', i.ownerId), el('status', 'in-use'),
      el('privateIpAddress', e.privateIps[0]), el('privateDnsName', dnsName(e.privateIps[0]!)), el('sourceDestCheck', e.sourceDestCheck),
      parent('attachment', [el('attachmentId', `eni-attach-${e.id.slice(4)}`), el('deviceIndex', e.deviceIndex), el('status', 'attached')]),
      list('privateIpAddressesSet', e.privateIps, (ip) => [el('privateIpAddress', ip), el('privateDnsName', dnsName(ip)), el('primary', ip === e.privateIps[0])]),
    ]),
  ];
}

function dnsName(ip: string): string {
  return `ip-${ip.replace(/\./g, '-')}.ec2.internal`;
}

function optional(node: XmlNode | undefined): XmlNode[] {
  return node ? [node] : [];
}
