// Which cloud network this host sits in: `aws:vpc-0abc`, `gce:projects/p/global/networks/n`,
// `ali:vpc-xyz`, or `none`. From --route-domain, else the cloud's instance metadata
// service (AWS IMDSv2, GCE metadata server, Alibaba metadata) with a bounded timeout.
// Published in the lease's BackendData as extra fields; flannel hosts ignore them.
import type { Cloud } from '../config/backend.ts';
import { InvalidInputError, errorMessage } from '../errors.ts';
import { IDENTIFY, METADATA_ENDPOINTS } from '../../providers/metadata.ts';

export interface RouteDomain {
  /** `none`, or `<cloud>:<network id>`. */
  readonly id: string;
  /** The instance id the cloud knows this host by (routes' next hop), when known. */
  readonly instanceId?: string | undefined;
}

export const NO_DOMAIN: RouteDomain = { id: 'none' };

export function parseRouteDomain(text: string, field = '--route-domain'): RouteDomain {
  if (text === 'none') return NO_DOMAIN;
  const m = /^(aws|gce|ali):(\S+)$/.exec(text);
  if (!m) throw new InvalidInputError(field, text, 'must be none, aws:<vpc-id>, gce:projects/<p>/global/networks/<n> or ali:<vpc-id>');
  const [, cloud, id] = m;
  if (cloud === 'aws' && !/^vpc-[0-9a-z]+$/.test(id!)) throw new InvalidInputError(field, text, 'an AWS route domain is aws:vpc-…');
  if (cloud === 'ali' && !/^vpc-[0-9a-z]+$/.test(id!)) throw new InvalidInputError(field, text, 'an Alibaba route domain is ali:vpc-…');
  if (cloud === 'gce' && !/^projects\/[^/]+\/global\/networks\/[^/]+$/.test(id!)) {
    throw new InvalidInputError(field, text, 'a GCE route domain is gce:projects/<project>/global/networks/<network>');
  }
  return { id: text };
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
