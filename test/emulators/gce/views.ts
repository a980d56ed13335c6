// World records → compute v1 JSON. Route warnings are derived when the route is
// read, from the next-hop instance as it is now: a deleted instance leaves its
// routes in place with NEXT_HOP_INSTANCE_NOT_FOUND, as GCE does.
import {
  type Warning, gatewayUrl, instanceJson, instanceUrl, networkUrl, operationJson, operationUrl, projectUrl, routeJson,
  routeUrl, timestamp, zoneUrl,
} from './resources.ts';
import type { Instance, Operation, Project, Route, World } from './world.ts';

export const EMULATOR_USER = 'tartan-emulator@example.iam.gserviceaccount.com';

export function routeView(world: World, project: string, r: Route): Record<string, unknown> {
  const hop = r.nextHopInstance;
  return routeJson({
    id: r.id,
    creationTimestamp: timestamp(r.created),
    name: r.name,
    description: r.description,
    network: networkUrl(r.network.project, r.network.name),
    tags: r.tags,
    destRange: r.destRange,
    priority: r.priority,
    nextHopInstance: hop ? instanceUrl(hop.project, hop.zone, hop.name) : undefined,
    nextHopIp: r.nextHopIp,
    nextHopGateway: r.nextHopGateway ? gatewayUrl(project) : undefined,
    warnings: hop ? hopWarnings(world, r) : [],
    selfLink: routeUrl(project, r.name),
  });
}

function hopWarnings(world: World, r: Route): Warning[] {
  const hop = r.nextHopInstance!;
  const url = instanceUrl(hop.project, hop.zone, hop.name);
  const inst = world.projects.get(hop.project)?.instances.get(`${hop.zone}/${hop.name}`);
  const data = [{ key: 'instance', value: url }];
  if (!inst) return [{ code: 'NEXT_HOP_INSTANCE_NOT_FOUND', message: `Next hop instance '${url}' does not exist.`, data }];
  const out: Warning[] = [];
  if (inst.network !== r.network.name || inst.project !== r.network.project) {
    out.push({ code: 'NEXT_HOP_INSTANCE_NOT_ON_NETWORK', message: `Next hop instance '${url}' is not on the route's network.`, data });
  }
  if (!inst.canIpForward) out.push({ code: 'NEXT_HOP_CANNOT_IP_FORWARD', message: `Next hop instance '${url}' cannot forward IP traffic.`, data });
  if (inst.status !== 'RUNNING') out.push({ code: 'NEXT_HOP_NOT_RUNNING', message: `Next hop instance '${url}' is not running.`, data });
  return out;
}

export function operationStatus(op: Operation, now: number): 'PENDING' | 'RUNNING' | 'DONE' {
  if (op.settled || now >= op.doneAt) return 'DONE';
  return now >= op.runningAt ? 'RUNNING' : 'PENDING';
}

export function operationView(op: Operation, now: number): Record<string, unknown> {
  const status = operationStatus(op, now);
  const f = status === 'DONE' ? op.failure : undefined;
  return operationJson({
    id: op.id,
    name: op.name,
    clientOperationId: op.clientOperationId,
    operationType: op.type,
    targetLink: routeUrl(op.project, op.routeName),
    targetId: op.targetId,
    status,
    user: EMULATOR_USER,
    progress: status === 'DONE' ? 100 : 0,
    insertTime: timestamp(op.insertAt),
    startTime: status === 'PENDING' ? undefined : timestamp(op.runningAt),
    endTime: status === 'DONE' ? timestamp(op.doneAt) : undefined,
    error: f ? { errors: [{ code: f.code, message: f.message }] } : undefined,
    httpErrorStatusCode: f?.httpStatus,
    httpErrorMessage: f?.httpMessage,
    selfLink: operationUrl(op.project, op.name),
  });
}

export function instanceView(i: Instance): Record<string, unknown> {
  return instanceJson({
    id: i.id,
    creationTimestamp: timestamp(i.created),
    name: i.name,
    status: i.status,
    zone: zoneUrl(i.project, i.zone),
    canIpForward: i.canIpForward,
    network: networkUrl(i.project, i.network),
    networkIP: i.networkIP,
    selfLink: instanceUrl(i.project, i.zone, i.name),
  });
}

export function networkView(p: Project, name: string, net: { id: string; created: number }): Record<string, unknown> {
  return {
    kind: 'compute#network',
    id: net.id,
    creationTimestamp: timestamp(net.created),
    name,
    selfLink: networkUrl(p.name, name),
    autoCreateSubnetworks: false,
    routingConfig: { routingMode: 'REGIONAL' },
  };
}

/** projects.get, with the ROUTES quota: limit per network as configured, usage over the project. */
export function projectView(world: World, p: Project): Record<string, unknown> {
  return {
    kind: 'compute#project',
    id: p.id,
    name: p.name,
    quotas: [{ metric: 'ROUTES', limit: world.opts.routeQuota, usage: p.routes.size }],
    selfLink: projectUrl(p.name),
  };
}
