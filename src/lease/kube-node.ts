// Kubernetes mode's lease codec: a Node is a lease the way flannel's kube subnet
// manager reads and writes it (kubernetes.md §1). The node's spec.podCIDR(s) is the
// subnet; flannel's annotations carry the rest: kube-subnet-manager "true",
// backend-type, backend-data (the BackendData JSON as a string; `null` for host-gw),
// backend-v6-data, public-ip(v6); public-ip-overwrite(-v6) and node-public-ip(-v6)
// are read only. tartan adds its own annotations beside them: the controller's route
// status for the node and the controller heartbeat. Pure: no I/O here.
import { createHash } from 'node:crypto';
import { InvalidInputError } from '../errors.ts';
import { type Cidr, formatIp, parseCidr, parseIp } from '../net/cidr.ts';
import type { JsonValue } from '../util/json.ts';
import { type Lease, type LeaseAttrs, subnetKey } from './lease.ts';

export const DEFAULT_ANNOTATION_PREFIX = 'flannel.alpha.coreos.com';

/** tartan's own annotations (not under flannel's prefix: flannel nodes never write them). */
export const ROUTE_STATUS_ANNOTATION = 'tartan.io/route-status';
const HEARTBEAT_ANNOTATION_PREFIX = 'tartan.io/route-heartbeat-';

export interface AnnotationKeys {
  readonly subnetManager: string;
  readonly backendType: string;
  readonly backendData: string;
  readonly backendV6Data: string;
  readonly publicIp: string;
  readonly publicIpv6: string;
  readonly publicIpOverwrite: string;
  readonly publicIpv6Overwrite: string;
  readonly nodePublicIp: string;
  readonly nodePublicIpv6: string;
}

const FQDN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const NAME_PREFIX = /^[a-z0-9_-]*$/;

/**
 * flannel's normalisation of --kube-annotation-prefix: no `/` → append one; one `/`
 * not at the end → append `-` unless it ends in `-`; more than one `/` is an error.
 */
export function annotationKeys(prefix: string = DEFAULT_ANNOTATION_PREFIX): AnnotationKeys {
  const slashes = prefix.split('/').length - 1;
  if (slashes > 1) throw new InvalidInputError('--kube-annotation-prefix', prefix, 'may hold one "/" at most');
  let p = prefix;
  if (slashes === 0) p = `${p}/`;
  else if (!p.endsWith('/') && !p.endsWith('-')) p = `${p}-`;
  const [domain = '', name = ''] = p.split('/');
  if (!FQDN.test(domain) || !NAME_PREFIX.test(name)) {
    throw new InvalidInputError('--kube-annotation-prefix', prefix, 'must be a DNS name, optionally followed by "/" and [a-z0-9_-]');
  }
  const k = (s: string): string => `${p}${s}`;
  return {
    subnetManager: k('kube-subnet-manager'),
    backendType: k('backend-type'),
    backendData: k('backend-data'),
    backendV6Data: k('backend-v6-data'),
    publicIp: k('public-ip'),
    publicIpv6: k('public-ipv6'),
    publicIpOverwrite: k('public-ip-overwrite'),
    publicIpv6Overwrite: k('public-ipv6-overwrite'),
    nodePublicIp: k('node-public-ip'),
    nodePublicIpv6: k('node-public-ipv6'),
  };
}

/** The parts of a Node tartan reads (a Node as listed is cut down to this on arrival). */
export interface NodeView {
  readonly name: string;
  readonly podCIDR?: string | undefined;
  readonly podCIDRs?: readonly string[] | undefined;
  readonly annotations: Readonly<Record<string, string>>;
  /** metadata.creationTimestamp in epoch ms (0 when absent). */
  readonly createdMs: number;
}

/**
 * Cuts a Node object (as JSON) down to the view: everything else (status.images,
 * conditions…) is dropped, and of the annotations only `keys`' and tartan's are kept
 * (all of them when no keys are given).
 */
export function nodeView(obj: unknown, keys?: AnnotationKeys): NodeView {
  const o = (obj ?? {}) as { metadata?: { name?: unknown; annotations?: unknown; creationTimestamp?: unknown }; spec?: { podCIDR?: unknown; podCIDRs?: unknown } };
  const name = o.metadata?.name;
  if (typeof name !== 'string' || name === '') throw new InvalidInputError('node metadata.name', name, 'must be a non-empty string');
  const ann = o.metadata?.annotations;
  const wanted = keys ? new Set<string>(Object.values(keys)) : undefined;
  const annotations: Record<string, string> = {};
  if (ann && typeof ann === 'object') {
    for (const [k, v] of Object.entries(ann)) {
      if (typeof v === 'string' && (!wanted || wanted.has(k) || k.startsWith('tartan.io/'))) annotations[k] = v;
    }
  }
  const podCIDRs = Array.isArray(o.spec?.podCIDRs) ? o.spec.podCIDRs.filter((c): c is string => typeof c === 'string') : undefined;
  const created = typeof o.metadata?.creationTimestamp === 'string' ? Date.parse(o.metadata.creationTimestamp) : NaN;
  return {
    name,
    podCIDR: typeof o.spec?.podCIDR === 'string' && o.spec.podCIDR !== '' ? o.spec.podCIDR : undefined,
    podCIDRs: podCIDRs && podCIDRs.length > 0 ? podCIDRs : undefined,
    annotations,
    createdMs: Number.isFinite(created) ? created : 0,
  };
}

/** The node's pod CIDRs by family, flannel's rules: podCIDRs (1–2 entries, one per family) else podCIDR. */
export function nodePodCidrs(view: NodeView): { v4?: Cidr; v6?: Cidr } {
  const list = view.podCIDRs ?? (view.podCIDR ? [view.podCIDR] : []);
  if (list.length > 2) throw new InvalidInputError(`node ${view.name} spec.podCIDRs`, list, 'should be IPv4/IPv6 only or dual-stack (at most one per family)');
  const out: { v4?: Cidr; v6?: Cidr } = {};
  for (const text of list) {
    const cidr = parseCidr(text, `node ${view.name} spec.podCIDRs`);
    const slot = cidr.family === 4 ? 'v4' : 'v6';
    if (out[slot]) throw new InvalidInputError(`node ${view.name} spec.podCIDRs`, list, 'holds two CIDRs of one family');
    out[slot] = cidr;
  }
  return out;
}

/** What one node is, as a lease source. */
export type NodeLease =
  /** Not a flannel/tartan node (no kube-subnet-manager "true"): not a peer. */
  | { readonly kind: 'unmanaged' }
  | { readonly kind: 'lease'; readonly lease: Lease }
  /** Managed, but a field does not parse: skipped with this error (names node and field). */
  | { readonly kind: 'malformed'; readonly error: InvalidInputError };

/** flannel's nodeToLease: a peer needs a parseable public-ip and an IPv4 CIDR (and, with IPv6, public-ipv6 + an IPv6 CIDR). */
export function nodeLease(view: NodeView, keys: AnnotationKeys, opts: { readonly ipv6: boolean; readonly revision: number }): NodeLease {
  const a = view.annotations;
  if (a[keys.subnetManager] !== 'true') return { kind: 'unmanaged' };
  try {
    const cidrs = nodePodCidrs(view);
    if (!cidrs.v4) throw new InvalidInputError(`node ${view.name} spec.podCIDRs`, view.podCIDRs ?? view.podCIDR ?? null, 'missing an IPv4 CIDR');
    const publicIp = annotationIp(view, keys.publicIp, 4);
    if (publicIp === undefined) throw new InvalidInputError(`node ${view.name} annotation ${keys.publicIp}`, a[keys.publicIp] ?? null, 'missing');
    const withV6 = opts.ipv6 && cidrs.v6 !== undefined && a[keys.publicIpv6] !== undefined;
    const attrs: LeaseAttrs = {
      publicIp,
      publicIpv6: withV6 ? annotationIp(view, keys.publicIpv6, 6) : undefined,
      backendType: a[keys.backendType] ?? '',
      backendData: annotationJson(view, keys.backendData),
      backendV6Data: withV6 ? annotationJson(view, keys.backendV6Data) : undefined,
    };
    const ipv6Subnet = withV6 ? cidrs.v6 : undefined;
    return {
      kind: 'lease',
      lease: { key: subnetKey(cidrs.v4, ipv6Subnet), subnet: cidrs.v4, ipv6Subnet, attrs, reservation: false, revision: opts.revision, createdRevision: view.createdMs },
    };
  } catch (err) {
    if (err instanceof InvalidInputError) return { kind: 'malformed', error: err };
    throw err;
  }
}

function annotationIp(view: NodeView, key: string, family: 4 | 6): string | undefined {
  const text = view.annotations[key];
  if (text === undefined) return undefined;
  const field = `node ${view.name} annotation ${key}`;
  const ip = parseIp(text, field);
  if (ip.family !== family) throw new InvalidInputError(field, text, `must be an IPv${family} address`);
  return formatIp(ip.family, ip.addr);
}

function annotationJson(view: NodeView, key: string): JsonValue | undefined {
  const text = view.annotations[key];
  if (text === undefined) return undefined;
  try {
    return (JSON.parse(text) as JsonValue | null) ?? undefined;
  } catch (err) {
    throw new InvalidInputError(`node ${view.name} annotation ${key}`, text, 'is not JSON', { cause: err });
  }
}

/**
 * The annotations this host writes on its own node, exactly as flannel writes them;
 * public-ip-overwrite(-v6), when set on the node, replaces the published address.
 */
export function ownAnnotations(attrs: LeaseAttrs, keys: AnnotationKeys, current: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {
    [keys.subnetManager]: 'true',
    [keys.backendType]: attrs.backendType,
    [keys.backendData]: JSON.stringify(attrs.backendData ?? null),
    [keys.publicIp]: current[keys.publicIpOverwrite] ?? attrs.publicIp,
  };
  if (attrs.publicIpv6 !== undefined) {
    out[keys.backendV6Data] = JSON.stringify(attrs.backendV6Data ?? null);
    out[keys.publicIpv6] = current[keys.publicIpv6Overwrite] ?? attrs.publicIpv6;
  }
  return out;
}

/** The strategic-merge patch that makes `current` hold `wanted`, or undefined when nothing differs. */
export function annotationPatch(current: Readonly<Record<string, string>>, wanted: Readonly<Record<string, string | null>>): { metadata: { annotations: Record<string, string | null> } } | undefined {
  const diff: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(wanted)) {
    if (v === null ? k in current : current[k] !== v) diff[k] = v;
  }
  return Object.keys(diff).length > 0 ? { metadata: { annotations: diff } } : undefined;
}

/** The heartbeat annotation of one route domain's controller (a short hash keeps the key valid for any domain id). */
export function heartbeatAnnotation(routeDomain: string): string {
  return `${HEARTBEAT_ANNOTATION_PREFIX}${createHash('sha256').update(routeDomain).digest('hex').slice(0, 12)}`;
}

/** The node's annotations that vouch for the address this host should use (node-public-ip(-v6)), read at start. */
export function storedPublicIps(view: NodeView, keys: AnnotationKeys): { publicIp?: string; publicIpv6?: string } {
  const out: { publicIp?: string; publicIpv6?: string } = {};
  const v4 = view.annotations[keys.nodePublicIp];
  const v6 = view.annotations[keys.nodePublicIpv6];
  if (v4 !== undefined) out.publicIp = annotationIp(view, keys.nodePublicIp, 4) ?? v4;
  if (v6 !== undefined) out.publicIpv6 = annotationIp(view, keys.nodePublicIpv6, 6) ?? v6;
  return out;
}
