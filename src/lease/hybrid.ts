// tartan's additions to a lease's BackendData (hybrid mode): the host's cloud
// network (`RouteDomain`) and its instance (`InstanceID`). flannel hosts ignore
// unknown BackendData fields, so a tartan lease still reads as a plain vxlan or
// host-gw lease to them. The agent writes these fields, the controller routes by
// them, the audit reports them: this file is their one home, and the home of the
// route domain id's format (made, parsed, and turned into an etcd key segment).
import { InvalidInputError } from '../errors.ts';
import type { JsonValue } from '../util/json.ts';
import { type Lease, backendField } from './lease.ts';

export const ROUTE_DOMAIN_FIELD = 'RouteDomain';
export const INSTANCE_ID_FIELD = 'InstanceID';

/** The route domain a lease's host published, if any (`none` = outside every cloud network). */
export function peerRouteDomain(lease: Lease): string | undefined {
  const v = backendField(lease.attrs.backendData, ROUTE_DOMAIN_FIELD);
  return typeof v === 'string' ? v : undefined;
}

/** The instance id a lease's host published, if any. */
export function publishedInstanceId(lease: Lease): string | undefined {
  const v = backendField(lease.attrs.backendData, INSTANCE_ID_FIELD);
  return typeof v === 'string' ? v : undefined;
}

/**
 * Whether a lease's host asks for a cloud route: it published a route domain (a
 * tartan agent in hybrid mode) other than `none`. A flannel lease, or a tartan host
 * outside any cloud network, would never use the route — its peers reach it over
 * the kernel path — so routing it would only spend route-table quota.
 */
export function wantsCloudRoute(lease: Lease): boolean {
  const domain = peerRouteDomain(lease);
  return domain !== undefined && domain !== NO_ROUTE_DOMAIN;
}

/** The backend's data with RouteDomain (and InstanceID when known) added. */
export function withRouteDomain(data: JsonValue | undefined, domain: { readonly id: string; readonly instanceId?: string | undefined }): JsonValue {
  const base = data !== null && typeof data === 'object' && !Array.isArray(data) ? data : {};
  return { ...base, [ROUTE_DOMAIN_FIELD]: domain.id, ...(domain.instanceId ? { [INSTANCE_ID_FIELD]: domain.instanceId } : {}) };
}

/** A host outside every cloud network. */
export const NO_ROUTE_DOMAIN = 'none';

/** A cloud network as its parts: the one shape every route domain id is made from and parsed into. */
export type RouteDomainParts =
  | { readonly cloud: 'aws' | 'ali'; readonly vpcId: string }
  | { readonly cloud: 'gce'; readonly project: string; readonly network: string };

/** The route domain id agents publish and controllers route by: aws:vpc-…, gce:projects/<p>/global/networks/<n>, ali:vpc-…. */
export function formatRouteDomain(parts: RouteDomainParts): string {
  return parts.cloud === 'gce' ? `gce:projects/${parts.project}/global/networks/${parts.network}` : `${parts.cloud}:${parts.vpcId}`;
}

const VPC_ID = /^vpc-[0-9a-z]+$/;
const GCE_NETWORK = /^projects\/([^/\s]+)\/global\/networks\/([^/\s]+)$/;
const DOMAIN_FORMS = 'must be none, aws:<vpc-id>, gce:projects/<p>/global/networks/<n> or ali:<vpc-id>';

/** A route domain id → its parts (undefined for `none`); errors name `field` and the value. */
export function parseRouteDomainId(text: string, field: string): RouteDomainParts | undefined {
  if (text === NO_ROUTE_DOMAIN) return undefined;
  const m = /^(aws|gce|ali):(\S+)$/.exec(text);
  if (!m) throw new InvalidInputError(field, text, DOMAIN_FORMS);
  const cloud = m[1] as 'aws' | 'gce' | 'ali';
  const rest = m[2]!;
  if (cloud === 'gce') {
    const g = GCE_NETWORK.exec(rest);
    if (!g) throw new InvalidInputError(field, text, 'a GCE route domain is gce:projects/<project>/global/networks/<network>');
    return { cloud, project: g[1]!, network: g[2]! };
  }
  if (!VPC_ID.test(rest)) throw new InvalidInputError(field, text, `an ${cloud === 'aws' ? 'AWS' : 'Alibaba'} route domain is ${cloud}:vpc-…`);
  return { cloud, vpcId: rest };
}

/**
 * The route domain as one etcd key segment (no `/`): `aws-vpc-0abc`, `ali-vpc-0abc`,
 * `gce-<project>.<network>` (a GCE network name has no `.`, so the last one splits),
 * `none`. One slug per domain and one domain per slug: route status, the leader key
 * and the ownership ledger are scoped by it.
 */
export function routeDomainSlug(id: string): string {
  const parts = parseRouteDomainId(id, 'route domain');
  if (parts === undefined) return NO_ROUTE_DOMAIN;
  return parts.cloud === 'gce' ? `gce-${parts.project}.${parts.network}` : `${parts.cloud}-${parts.vpcId}`;
}

/**
 * Which leases a controller routes: with its route domain, exactly the leases that
 * published that domain (a GCE host's lease is the GCE controller's, never the AWS
 * one's); without one (tests of other things), every lease that wants a cloud route.
 */
export function routedIn(routeDomain: string | undefined): (lease: Lease) => boolean {
  if (routeDomain === undefined) return wantsCloudRoute;
  if (routeDomain === NO_ROUTE_DOMAIN) return () => false;
  return (lease) => peerRouteDomain(lease) === routeDomain;
}
