// Compute v1 wire shapes. Keys are written in the order the API reference lists
// them (Route, Operation, lists, errors), and bodies are pretty-printed the way
// Google's front end answers by default, so fidelity tests can compare bytes.

export const API_ROOT = 'https://www.googleapis.com/compute/v1';

export const projectUrl = (p: string): string => `${API_ROOT}/projects/${p}`;
export const networkUrl = (p: string, n: string): string => `${projectUrl(p)}/global/networks/${n}`;
export const routeUrl = (p: string, r: string): string => `${projectUrl(p)}/global/routes/${r}`;
export const operationUrl = (p: string, o: string): string => `${projectUrl(p)}/global/operations/${o}`;
export const zoneUrl = (p: string, z: string): string => `${projectUrl(p)}/zones/${z}`;
export const instanceUrl = (p: string, z: string, i: string): string => `${zoneUrl(p, z)}/instances/${i}`;
export const gatewayUrl = (p: string): string => `${projectUrl(p)}/global/gateways/default-internet-gateway`;

/** RFC 1035 names as compute requires them: 1–63 chars, `[a-z]([-a-z0-9]*[a-z0-9])?`. */
export const NAME_PATTERN = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** An error the API answers with: `{"error":{"code","message","errors":[{message,domain,reason}]}}`. */
export class ApiError extends Error {
  readonly status: number;
  readonly reason: string;
  readonly domain: string;
  constructor(status: number, reason: string, message: string, domain = 'global') {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.reason = reason;
    this.domain = domain;
  }
}

export const notFound = (resource: string): ApiError =>
  new ApiError(404, 'notFound', `The resource '${resource}' was not found`);
export const alreadyExists = (resource: string): ApiError =>
  new ApiError(409, 'alreadyExists', `The resource '${resource}' already exists`);
export const invalidField = (field: string, value: unknown, why: string): ApiError =>
  new ApiError(400, 'invalid', `Invalid value for field '${field}': '${String(value)}'. ${why}`);

export function errorBody(err: ApiError): unknown {
  return {
    error: {
      code: err.status,
      message: err.message,
      errors: [{ message: err.message, domain: err.domain, reason: err.reason }],
    },
  };
}

/** Google JSON APIs pretty-print unless asked not to, and end the body with a newline. */
export function encodeBody(body: unknown, pretty: boolean): string {
  return `${pretty ? JSON.stringify(body, null, 2) : JSON.stringify(body)}\n`;
}

export interface Warning {
  readonly code: string;
  readonly message: string;
  readonly data?: readonly { readonly key: string; readonly value: string }[];
}

export interface RouteView {
  readonly id: string;
  readonly creationTimestamp: string;
  readonly name: string;
  readonly description?: string | undefined;
  readonly network: string;
  readonly tags: readonly string[];
  readonly destRange: string;
  readonly priority: number;
  readonly nextHopInstance?: string | undefined;
  readonly nextHopIp?: string | undefined;
  readonly nextHopGateway?: string | undefined;
  readonly warnings: readonly Warning[];
  readonly selfLink: string;
}

/** Route in the reference order: kind, id, creationTimestamp, name, description, network, tags, destRange, priority, nextHop*, warnings, selfLink. */
export function routeJson(r: RouteView): Record<string, unknown> {
  return compact({
    kind: 'compute#route',
    id: r.id,
    creationTimestamp: r.creationTimestamp,
    name: r.name,
    description: r.description,
    network: r.network,
    tags: r.tags.length > 0 ? r.tags : undefined,
    destRange: r.destRange,
    priority: r.priority,
    nextHopInstance: r.nextHopInstance,
    nextHopIp: r.nextHopIp,
    nextHopGateway: r.nextHopGateway,
    warnings: r.warnings.length > 0 ? r.warnings : undefined,
    selfLink: r.selfLink,
  });
}

export interface OperationView {
  readonly id: string;
  readonly name: string;
  readonly clientOperationId?: string | undefined;
  readonly operationType: string;
  readonly targetLink: string;
  readonly targetId: string;
  readonly status: 'PENDING' | 'RUNNING' | 'DONE';
  readonly user: string;
  readonly progress: number;
  readonly insertTime: string;
  readonly startTime?: string | undefined;
  readonly endTime?: string | undefined;
  readonly error?: { readonly errors: readonly { readonly code: string; readonly message: string }[] } | undefined;
  readonly httpErrorStatusCode?: number | undefined;
  readonly httpErrorMessage?: string | undefined;
  readonly selfLink: string;
}

/** Operation in the reference order (kind, id, name, clientOperationId, operationType, targetLink, targetId, status, user, progress, times, error, http error, selfLink). */
export function operationJson(o: OperationView): Record<string, unknown> {
  return compact({
    kind: 'compute#operation',
    id: o.id,
    name: o.name,
    clientOperationId: o.clientOperationId,
    operationType: o.operationType,
    targetLink: o.targetLink,
    targetId: o.targetId,
    status: o.status,
    user: o.user,
    progress: o.progress,
    insertTime: o.insertTime,
    startTime: o.startTime,
    endTime: o.endTime,
    error: o.error,
    httpErrorStatusCode: o.httpErrorStatusCode,
    httpErrorMessage: o.httpErrorMessage,
    selfLink: o.selfLink,
  });
}

export interface InstanceView {
  readonly id: string;
  readonly creationTimestamp: string;
  readonly name: string;
  readonly status: string;
  readonly zone: string;
  readonly canIpForward: boolean;
  readonly network: string;
  readonly networkIP: string;
  readonly selfLink: string;
}

export function instanceJson(i: InstanceView): Record<string, unknown> {
  return {
    kind: 'compute#instance',
    id: i.id,
    creationTimestamp: i.creationTimestamp,
    name: i.name,
    machineType: `${i.zone}/machineTypes/e2-standard-2`,
    status: i.status,
    zone: i.zone,
    canIpForward: i.canIpForward,
    networkInterfaces: [{ kind: 'compute#networkInterface', network: i.network, networkIP: i.networkIP, name: 'nic0' }],
    selfLink: i.selfLink,
  };
}

/** A list page: kind, id, items, nextPageToken, selfLink (routes.list / instances.list / operations.list). */
export function listJson(kind: string, id: string, items: unknown, nextPageToken: string | undefined, selfLink: string): Record<string, unknown> {
  return compact({ kind, id, items, nextPageToken, selfLink });
}

/** RFC 3339 with milliseconds, as compute writes its timestamps. */
export function timestamp(ms: number): string {
  return new Date(ms).toISOString();
}

function compact(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out;
}
