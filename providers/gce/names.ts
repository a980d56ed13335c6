// Route names and ownership marks. GCE routes are global resources named by the
// caller, so the name is the handle: `tartan-<cluster>-<subnet>`, e.g.
// `tartan-prod-10-244-3-0-24`, the same for the same subnet on every run (so a
// restarted controller finds its routes by name, and a second insert is a 409).
// The description carries the marker `tartan:<cluster>`: a name prefix alone is
// ambiguous (`tartan-a-` is also a prefix of cluster `a-b`'s names).
import { createHash } from 'node:crypto';
import { InvalidInputError } from '../../src/errors.ts';
import { formatCidr, parseCidr } from '../../src/net/cidr.ts';

/** Compute resource names: 1–63 chars, `[a-z]([-a-z0-9]*[a-z0-9])?`. */
export const GCE_NAME = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
export const MAX_NAME = 63;
/** Cluster names longer than this are shortened in the prefix (12 chars + 6-char hash), so a subnet always has room. */
const MAX_CLUSTER_IN_PREFIX = 20;
const HASH_LEN = 10;

export interface RouteNaming {
  readonly clusterName: string;
  /** Every route name of this cluster starts with it, e.g. `tartan-prod-`. */
  readonly prefix: string;
  /** The description every route of this cluster carries. */
  readonly marker: string;
  /** The route name for a destination (any spelling of the CIDR; the canonical form is named). */
  nameFor(destination: string): string;
}

export function routeNaming(clusterName: string): RouteNaming {
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(clusterName) || clusterName.length > MAX_NAME) {
    throw new InvalidInputError('clusterName', clusterName, 'must be 1–63 lowercase letters, digits or dashes, starting and ending with a letter or digit');
  }
  const cluster = clusterName.length <= MAX_CLUSTER_IN_PREFIX
    ? clusterName
    : `${trimDashes(clusterName.slice(0, 12))}-${hash(clusterName, 6)}`;
  const prefix = `tartan-${cluster}-`;
  return {
    clusterName,
    prefix,
    marker: `tartan:${clusterName}`,
    nameFor: (destination) => nameFor(prefix, destination),
  };
}

function nameFor(prefix: string, destination: string): string {
  const canonical = formatCidr(parseCidr(destination, 'destination'));
  // RFC 5952 text is unique per prefix; mapping `.`, `:` and `/` to `-` keeps it
  // unique (the last dash is always the slash: prefix lengths have no colon).
  const slug = canonical.replace(/[.:/]/g, '-');
  const full = `${prefix}${slug}`;
  if (full.length <= MAX_NAME) return full;
  const room = MAX_NAME - prefix.length - 1 - HASH_LEN;
  return `${prefix}${trimDashes(slug.slice(0, room))}-${hash(canonical, HASH_LEN)}`;
}

function hash(text: string, length: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

function trimDashes(s: string): string {
  return s.replace(/-+$/, '');
}
