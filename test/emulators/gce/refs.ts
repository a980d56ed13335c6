// Resource references as compute accepts them on input (full URL on any compute
// host, `projects/p/...`, or project-relative `global/...` / `zones/...`) and the
// route body validation that insert applies before it answers.
import { formatCidr, parseCidr, parseIp } from '../../../src/net/cidr.ts';
import { ApiError, invalidField, NAME_PATTERN } from './resources.ts';

const PREFIX = /^(?:https?:\/\/[^/]+\/compute\/(?:v1|beta|alpha)\/)?(?:projects\/([^/]+)\/)?/;

export function parseNetworkRef(ref: string, project: string): { project: string; name: string } | undefined {
  const m = new RegExp(`${PREFIX.source}global/networks/([^/]+)$`).exec(ref);
  return m ? { project: m[1] ?? project, name: m[2]! } : undefined;
}

export function parseInstanceRef(ref: string, project: string): { project: string; zone: string; name: string } | undefined {
  const m = new RegExp(`${PREFIX.source}zones/([^/]+)/instances/([^/]+)$`).exec(ref);
  return m ? { project: m[1] ?? project, zone: m[2]!, name: m[3]! } : undefined;
}

export interface RouteInput {
  readonly name: string;
  readonly description?: string | undefined;
  readonly network: { readonly project: string; readonly name: string };
  readonly destRange: string;
  readonly priority: number;
  readonly tags: readonly string[];
  readonly nextHopInstance?: { readonly project: string; readonly zone: string; readonly name: string } | undefined;
  readonly nextHopIp?: string | undefined;
  readonly nextHopGateway?: string | undefined;
}

/** Validates a routes.insert body (400 `invalid` / `required`), normalizing the destination like the API does. */
export function validateRouteBody(body: unknown, project: string): RouteInput {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new ApiError(400, 'required', 'Required field \'resource\' not specified');
  }
  const b = body as Record<string, unknown>;
  const name = requiredString(b, 'name');
  if (!NAME_PATTERN.test(name)) {
    throw invalidField('resource.name', name, 'Must be a match of regex \'(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)\'');
  }
  const networkText = requiredString(b, 'network');
  const network = parseNetworkRef(networkText, project);
  if (!network) throw invalidField('resource.network', networkText, 'The URL is malformed.');
  const destRange = normalizeDest(requiredString(b, 'destRange'));
  const priority = b.priority === undefined ? 1000 : Number(b.priority);
  if (!Number.isInteger(priority) || priority < 0 || priority > 65535) {
    throw invalidField('resource.priority', b.priority, 'Must be between 0 and 65535.');
  }
  const hops = ['nextHopInstance', 'nextHopIp', 'nextHopGateway'].filter((k) => b[k] !== undefined);
  if (hops.length !== 1) {
    throw new ApiError(400, 'invalid', 'Invalid value for field \'resource\': exactly one next hop must be specified.');
  }
  return {
    name,
    description: optionalString(b, 'description'),
    network,
    destRange,
    priority,
    tags: Array.isArray(b.tags) ? b.tags.filter((t): t is string => typeof t === 'string') : [],
    nextHopInstance: instanceHop(b.nextHopInstance, project),
    nextHopIp: ipHop(b.nextHopIp),
    nextHopGateway: optionalString(b, 'nextHopGateway'),
  };
}

function normalizeDest(text: string): string {
  try {
    return formatCidr(parseCidr(text, 'resource.destRange'));
  } catch {
    throw invalidField('resource.destRange', text, 'Must be a valid IPv4 or IPv6 CIDR range.');
  }
}

function instanceHop(value: unknown, project: string): RouteInput['nextHopInstance'] {
  if (value === undefined) return undefined;
  const ref = typeof value === 'string' ? parseInstanceRef(value, project) : undefined;
  if (!ref) throw invalidField('resource.nextHopInstance', value, 'The URL is malformed.');
  return ref;
}

function ipHop(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  try {
    if (typeof value !== 'string') throw new Error('not a string');
    parseIp(value);
    return value;
  } catch {
    throw invalidField('resource.nextHopIp', value, 'Must be a valid IP address.');
  }
}

function requiredString(b: Record<string, unknown>, key: string): string {
  const v = b[key];
  if (v === undefined || v === '') throw new ApiError(400, 'required', `Required field 'resource.${key}' not specified`);
  if (typeof v !== 'string') throw invalidField(`resource.${key}`, v, 'Must be a string.');
  return v;
}

function optionalString(b: Record<string, unknown>, key: string): string | undefined {
  const v = b[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw invalidField(`resource.${key}`, v, 'Must be a string.');
  return v;
}
