// Links and addresses, read with `ip -json` and changed with one `ip -batch` each.
import { type Cidr, type Family, contains, normalize, parseCidr, parseIp } from '../net/cidr.ts';
import { KernelCommandError, type KernelTarget, runJson, runToolChecked } from './exec.ts';
import { canonicalIp } from './observe.ts';

export interface LinkInfo {
  readonly name: string;
  readonly index: number;
  readonly mtu: number;
  readonly mac: string;
  readonly up: boolean;
  /** `linkinfo.info_kind` (vxlan, veth, bridge, …); undefined for plain devices. */
  readonly kind?: string | undefined;
  /** `linkinfo.info_data` as iproute2 prints it (vxlan: id, local, local6, link, port, learning, gbp). */
  readonly data: Readonly<Record<string, unknown>>;
  readonly addresses: readonly AddressInfo[];
}

export interface AddressInfo {
  readonly family: Family;
  readonly ip: string;
  readonly prefix: number;
  readonly scope: string;
}

interface JsonLink {
  ifindex: number;
  ifname: string;
  mtu: number;
  address?: string;
  flags?: string[];
  linkinfo?: { info_kind?: string; info_data?: Record<string, unknown> };
  addr_info?: Array<{ family: string; local: string; prefixlen: number; scope: string }>;
}

/** The link named `name` with details and addresses (one `ip -d -json addr show`), or undefined when there is none. */
export async function getLink(name: string, target: KernelTarget = {}): Promise<LinkInfo | undefined> {
  let links: JsonLink[];
  try {
    links = await runJson<JsonLink>('ip', ['-d', '-json', 'addr', 'show', 'dev', name], target);
  } catch (err) {
    if (err instanceof KernelCommandError && /does not exist|Cannot find device/.test(err.stderr)) return undefined;
    throw err;
  }
  const l = links[0];
  if (l === undefined) return undefined;
  return {
    name: l.ifname, index: l.ifindex, mtu: l.mtu, mac: (l.address ?? '').toLowerCase(),
    up: l.flags?.includes('UP') ?? false, kind: l.linkinfo?.info_kind, data: l.linkinfo?.info_data ?? {},
    addresses: addressesOf(l),
  };
}

/** Addresses on `dev` (all families and scopes). */
export async function listAddresses(dev: string, target: KernelTarget = {}): Promise<AddressInfo[]> {
  const links = await runJson<JsonLink>('ip', ['-json', 'addr', 'show', 'dev', dev], target);
  return links[0] === undefined ? [] : addressesOf(links[0]);
}

function addressesOf(l: JsonLink): AddressInfo[] {
  const out: AddressInfo[] = [];
  for (const a of l.addr_info ?? []) {
    if (a.family !== 'inet' && a.family !== 'inet6') continue;
    out.push({ family: a.family === 'inet' ? 4 : 6, ip: canonicalIp(a.local), prefix: a.prefixlen, scope: a.scope });
  }
  return out;
}

/** The networks `dev` is directly connected to (its global addresses' prefixes). */
export async function connectedNetworks(dev: string, target: KernelTarget = {}): Promise<Cidr[]> {
  const addrs = await listAddresses(dev, target);
  return addrs
    .filter((a) => a.scope === 'global')
    .map((a) => normalize(parseCidr(`${a.ip}/${a.prefix}`, dev, { allowHostBits: true })));
}

/** True when `ip` lies in one of `networks` (then it is reachable without a router). */
export function onConnectedNetwork(ip: string, networks: readonly Cidr[]): boolean {
  const { family, addr } = parseIp(ip);
  const host: Cidr = { family, addr, prefix: family === 4 ? 32 : 128 };
  return networks.some((n) => contains(n, host));
}

/**
 * Makes `want` the only global address of its family on `dev` (flannel's form for
 * the vxlan device: the subnet network address as /32 or /128). Link-local stays.
 */
export async function ensureOnlyAddress(
  dev: string, want: { family: Family; ip: string; prefix: number }, target: KernelTarget & { current?: readonly AddressInfo[] } = {},
): Promise<boolean> {
  const all = target.current ?? (await listAddresses(dev, target));
  const current = all.filter((a) => a.family === want.family && a.scope === 'global');
  const lines: string[] = [];
  if (!current.some((a) => a.ip === want.ip && a.prefix === want.prefix)) {
    lines.push(`address add ${want.ip}/${want.prefix} dev ${dev}${want.family === 6 ? ' nodad' : ''}`);
  }
  for (const a of current) if (a.ip !== want.ip || a.prefix !== want.prefix) lines.push(`address del ${a.ip}/${a.prefix} dev ${dev}`);
  if (lines.length === 0) return false;
  await runToolChecked('ip', ['-batch', '-'], { netns: target.netns, input: lines.join('\n') + '\n' });
  return true;
}
