// One controller leads per cloud network, not per cluster: an AWS controller and a
// GCE controller of one cluster both lead, each over its own route domain. This is
// the one place that names what they campaign on: the etcd key below
// `<prefix>/controller/leader/` and the coordination.k8s.io Lease name (Kubernetes
// mode). Pure.
import { createHash } from 'node:crypto';
import { InvalidInputError } from '../errors.ts';
import { NO_ROUTE_DOMAIN, parseRouteDomainId, routeDomainSlug } from '../lease/hybrid.ts';

export interface ElectionScope {
  /** Below `<prefix>/controller/leader/`: `<provider>/<domain-slug>`. */
  readonly key: string;
  /** A DNS-1123 subdomain of at most 63 characters: `tartan-<domain-slug>`, with a hash of the domain when that had to change it. */
  readonly kubeLeaseName: string;
}

/** Which provider serves which cloud of the route domain id. */
const CLOUD_OF_PROVIDER: Readonly<Record<string, string>> = { aws: 'aws', gce: 'gce', alicloud: 'ali' };

const MAX_NAME = 63;
const HASH_CHARS = 8;

export function electionScope(provider: string, routeDomain: string): ElectionScope {
  const parts = parseRouteDomainId(routeDomain, 'route domain');
  if (parts === undefined) throw new InvalidInputError('route domain', NO_ROUTE_DOMAIN, 'a controller routes a cloud network; none has no route table');
  if (CLOUD_OF_PROVIDER[provider] !== parts.cloud) {
    throw new InvalidInputError('--provider', provider, `cannot route ${routeDomain} (a ${parts.cloud} network)`);
  }
  const slug = routeDomainSlug(routeDomain);
  return { key: `${provider}/${slug}`, kubeLeaseName: kubeLeaseName(`tartan-${slug}`, routeDomain) };
}

/** `name` as a DNS-1123 subdomain ≤ 63 characters; when that changes it, a short hash of `id` keeps two domains apart. */
function kubeLeaseName(name: string, id: string): string {
  const clean = name.toLowerCase().replace(/[^a-z0-9.-]/g, '-').replace(/\.{2,}/g, '.').replace(/-*\.-*/g, '.');
  if (clean === name && name.length <= MAX_NAME) return name;
  const hash = createHash('sha256').update(id).digest('hex').slice(0, HASH_CHARS);
  const body = clean.slice(0, MAX_NAME - HASH_CHARS - 1).replace(/[^a-z0-9]+$/, '');
  return `${body}-${hash}`;
}
