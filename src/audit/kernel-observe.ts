// `tartan audit --kernel`: reads this host's kernel (or a named namespace's) and
// compares what tartan owns there with what the agent should have programmed.
// Read-only: only `ip -json … show` and `bridge -json fdb show` run.
import { desiredKernelState } from '../agent/kernel-state.ts';
import type { NetworkConfig } from '../config/network.ts';
import { InvalidInputError } from '../errors.ts';
import { connectedNetworks, observeOwned } from '../kernel/index.ts';
import { observeInterfaces } from '../kernel/interfaces.ts';
import { peerRouteDomain } from '../lease/hybrid.ts';
import type { Lease } from '../lease/lease.ts';
import type { RouteStatus } from '../lease/route-status.ts';
import { LeaseValidator, heldDestinations, readerAddress } from '../lease/validate.ts';
import { formatIp, parseIp } from '../net/cidr.ts';
import { kernelDrift } from './kernel.ts';
import type { KernelReport } from './report.ts';

export interface KernelAuditOptions {
  readonly config: NetworkConfig;
  readonly leases: readonly Lease[];
  /**
   * The controller's published route status for this host's route domain, as its
   * agent trusts it (empty while the heartbeat is stale): in hybrid mode the agent
   * leaves VPC-routed peers out of the kernel. Asked once this host's lease is known.
   */
  readonly status: (routeDomain: string, signal: AbortSignal) => Promise<ReadonlyMap<string, RouteStatus>>;
  /** How peer subnet sizes are judged, as the lease store says (Kubernetes: any size inside Network). */
  readonly prefixRule?: 'exact' | 'at-least-network' | undefined;
  /** Look inside this named network namespace instead of the current one (tests, the lab). */
  readonly netns?: string | undefined;
  /** This host's PublicIP (the agent's --public-ip); default: the lease whose PublicIP is a local address. */
  readonly publicIp?: string | undefined;
  readonly signal: AbortSignal;
}

interface HostView {
  readonly own: Lease;
  readonly dev: string;
  /** This host's addresses, as the validator wants them. */
  readonly addresses: ReadonlySet<string>;
}

export async function auditKernel(opts: KernelAuditOptions): Promise<KernelReport> {
  const { own, dev, addresses } = await findHost(opts);
  const routeDomain = peerRouteDomain(own);
  const networks = await connectedNetworks(dev, { netns: opts.netns });
  // This host's agent validates with its own rules (its lease, its addresses, its underlay): so does its audit.
  const view = new LeaseValidator({ config: opts.config, reader: { ownKey: own.key, addresses, underlay: networks }, prefixRule: opts.prefixRule }).validate(opts.leases);
  const state = desiredKernelState({
    config: opts.config, own, host: { dev, networks }, leases: view.valid, held: heldDestinations(view.invalid),
    hybrid: routeDomain ? { routeDomain, status: await opts.status(routeDomain, opts.signal) } : undefined,
  });
  if (state.backendType !== 'vxlan' && state.backendType !== 'host-gw') {
    throw new InvalidInputError('Backend.Type', state.backendType, '--kernel audits the vxlan and host-gw backends (and the cloud types, whose Fallback is one of them) only');
  }
  const observed = await observeOwned({ netns: opts.netns, families: [...state.families], devices: [...state.devices], signal: opts.signal });
  const drift = kernelDrift(state, observed, opts.leases);
  return {
    netns: opts.netns ?? null,
    backend: state.backendType,
    ownLease: own.key,
    routeDomain: routeDomain ?? null,
    peers: state.peers,
    cloudRoutedPeers: state.cloudRouted,
    objects: { expected: state.desired.size, observed: observed.size },
    counts: {
      missing: drift.filter((d) => d.kind === 'missing').length,
      extra: drift.filter((d) => d.kind === 'extra').length,
      different: drift.filter((d) => d.kind === 'different').length,
    },
    drift,
    skippedPeers: [...state.skipped],
  };
}

/** This host's lease (by --public-ip, else the lease whose PublicIP is one of its addresses) and its external interface. */
async function findHost(opts: KernelAuditOptions): Promise<HostView> {
  const view = await observeInterfaces(opts.netns);
  const local = new Map<string, string>();
  for (const i of view.interfaces) for (const a of i.addrs) local.set(canonicalIp(a.local), i.name);
  const ownIp = opts.publicIp !== undefined ? canonicalIp(opts.publicIp) : undefined;
  const own = ownIp !== undefined
    ? opts.leases.find((l) => canonicalIp(l.attrs.publicIp) === ownIp)
    : [...opts.leases].sort((a, b) => (a.key < b.key ? -1 : 1)).find((l) => local.has(canonicalIp(l.attrs.publicIp)));
  const where = opts.netns ? `network namespace ${opts.netns}` : 'this host';
  if (!own) {
    throw new InvalidInputError('--public-ip', opts.publicIp,
      ownIp !== undefined ? 'no lease has this PublicIP' : `no lease's PublicIP is an address of ${where}; pass --public-ip (the agent's) to name this host's lease`);
  }
  // Behind NAT (--public-ip not local) the external interface is the default route's.
  const dev = local.get(canonicalIp(own.attrs.publicIp)) ?? view.defaultDev;
  if (dev === undefined) throw new InvalidInputError('--public-ip', own.attrs.publicIp, `is not an address of ${where} and there is no default route to find the external interface by`);
  return { own, dev, addresses: new Set([...local.keys()].map(readerAddress)) };
}

function canonicalIp(text: string): string {
  try {
    const ip = parseIp(text);
    return formatIp(ip.family, ip.addr);
  } catch {
    return text;
  }
}
