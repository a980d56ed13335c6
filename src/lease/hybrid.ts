// tartan's additions to a lease's BackendData (hybrid mode): the host's cloud
// network (`RouteDomain`) and its instance (`InstanceID`). flannel hosts ignore
// unknown BackendData fields, so a tartan lease still reads as a plain vxlan or
// host-gw lease to them. The agent writes these fields, the controller routes by
// them, the audit reports them: this file is their one home.
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
  return domain !== undefined && domain !== 'none';
}

/** The backend's data with RouteDomain (and InstanceID when known) added. */
export function withRouteDomain(data: JsonValue | undefined, domain: { readonly id: string; readonly instanceId?: string | undefined }): JsonValue {
  const base = data !== null && typeof data === 'object' && !Array.isArray(data) ? data : {};
  return { ...base, [ROUTE_DOMAIN_FIELD]: domain.id, ...(domain.instanceId ? { [INSTANCE_ID_FIELD]: domain.instanceId } : {}) };
}
