// Which cloud network this host sits in: `aws:vpc-0abc`, `gce:projects/p/global/networks/n`,
// `ali:vpc-xyz`, or `none`. From --route-domain, else the cloud's instance metadata
// service (AWS IMDSv2, GCE metadata server, Alibaba metadata) with a bounded timeout.
// Published in the lease's BackendData as extra fields; flannel hosts ignore them.
import type { Cloud } from '../config/backend.ts';
import { errorMessage } from '../errors.ts';
import { NO_ROUTE_DOMAIN, parseRouteDomainId } from '../lease/hybrid.ts';
import { IDENTIFY, METADATA_ENDPOINTS } from '../../providers/metadata.ts';

export interface RouteDomain {
  /** `none`, or `<cloud>:<network id>`. */
  readonly id: string;
  /** The instance id the cloud knows this host by (routes' next hop), when known. */
  readonly instanceId?: string | undefined;
}

export const NO_DOMAIN: RouteDomain = { id: NO_ROUTE_DOMAIN };

/** --route-domain: the id's format is the lease home's (src/lease/hybrid.ts), shared with the controller. */
export function parseRouteDomain(text: string, field = '--route-domain'): RouteDomain {
  return parseRouteDomainId(text, field) === undefined ? NO_DOMAIN : { id: text };
}

export interface MetadataOptions {
  readonly cloud: Cloud;
  /** Base URL of the metadata service (tests point it at a local server). */
  readonly endpoint?: string | undefined;
  readonly timeoutMs: number;
  readonly fetch?: typeof fetch;
}

/** Asks the metadata service; on any failure (not on that cloud, timeout) answers `none`, never throws. */
export async function detectRouteDomain(opts: MetadataOptions): Promise<{ domain: RouteDomain; error?: string }> {
  const base = (opts.endpoint ?? METADATA_ENDPOINTS[opts.cloud]).replace(/\/+$/, '');
  const f = opts.fetch ?? fetch;
  const get = async (path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<string> => {
    const res = await f(`${base}${path}`, { method, headers, signal: AbortSignal.timeout(opts.timeoutMs) });
    if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status}`);
    return (await res.text()).trim();
  };
  try {
    const host = await IDENTIFY[opts.cloud](get);
    return { domain: { id: host.routeDomain, instanceId: host.instanceId } };
  } catch (err) {
    return { domain: NO_DOMAIN, error: errorMessage(err) };
  }
}
