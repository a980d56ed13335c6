// `tartan audit`, observe → compare → report, read-only: leases and route status
// from the lease store, the managed route tables through RouteTableReader (the
// read half of the provider interface, wrapped so nothing else is reachable), and
// optionally this host's kernel. The comparison is the controller's own drift
// model and planner; nothing here decides differently what should exist.
import { computeDrift } from '../controller/drift.ts';
import { hostRef, observeTables, protectedDestinations } from '../controller/observe.ts';
import { type DeletionBudget, planRoutes } from '../controller/planner.ts';
import type { NetworkConfig } from '../config/network.ts';
import { routedIn } from '../lease/hybrid.ts';
import type { Lease } from '../lease/lease.ts';
import { type RouteStatus, type RouteStatusRead, heartbeatFresh } from '../lease/route-status.ts';
import { LeaseValidator } from '../lease/validate.ts';
import type { LeaseReader, RouteStatusStore } from '../lease/store.ts';
import type { HostRef, NextHop, RouteTableReader } from '../../providers/route-table.ts';
import { type CloudObservation, buildReport } from './build.ts';
import { CouldNotAuditError, type Deadline } from './deadline.ts';
import { auditKernel } from './kernel-observe.ts';
import { readOnly } from './read-only.ts';
import type { AuditReport, KernelReport } from './report.ts';
import type { Cidr } from '../net/cidr.ts';
import type { OwnershipLedger } from '../lease/ledger.ts';
import { applyLedger, desiredNextHops } from '../controller/ownership.ts';

export interface AuditOptions {
  /** Read abilities only: listing leases and the controller's route status. */
  readonly leases: LeaseReader & Pick<RouteStatusStore, 'listRouteStatus'>;
  /** The network config: every lease is validated against it, as the controller and the agents do. */
  readonly config: NetworkConfig;
  /** How the lease store is named in messages and in `sources` (e.g. `etcd http://…`, and the key prefix). */
  readonly store: { readonly store: string; readonly prefix: string };
  /** The managed route tables; undefined audits leases, route status and the kernel only. */
  readonly cloud?: RouteTableReader | undefined;
  /**
   * The cloud's route domain: only its leases are expected in its tables, as its
   * controller routes them. Without it, every lease with a route domain other than none.
   */
  readonly routeDomain?: string | undefined;
  /**
   * A route domain's own route status (etcd: `<prefix>/routes/<domain-slug>/`): the
   * cloud's is audited, and --kernel judges this host as its agent does, by its own
   * domain's. Without it, `leases.listRouteStatus` serves both.
   */
  readonly routeStatusOf?: ((routeDomain: string) => Pick<RouteStatusStore, 'listRouteStatus'>) | undefined;
  /** The controller's ownership ledger (read only): without it, ownership is the provider's own rule. */
  readonly ledger?: Pick<OwnershipLedger, 'listLedger'> | undefined;
  /** Set to also report the controller's repair plan, with its deletion budget. */
  readonly plan?: { readonly budget: DeletionBudget } | undefined;
  /** Set to compare this host's kernel with what its agent should have programmed. */
  readonly kernel?: { readonly netns?: string | undefined; readonly publicIp?: string | undefined } | undefined;
  readonly deadline: Deadline;
  readonly now?: () => number;
}

export async function audit(opts: AuditOptions): Promise<AuditReport> {
  const { deadline } = opts;
  const storeText = opts.store.store;
  const statusStore = (domain: string | undefined): Pick<RouteStatusStore, 'listRouteStatus'> =>
    (domain !== undefined && opts.routeStatusOf ? opts.routeStatusOf(domain) : opts.leases);
  const [snapshot, published] = await Promise.all([
    deadline.read('etcd', `reading the leases from ${storeText}`, (signal) => opts.leases.list(signal)),
    deadline.read('etcd', `reading the route status from ${storeText}`, (signal) => statusStore(opts.routeDomain).listRouteStatus(signal)),
  ]);
  // --kernel: this host's own route domain's status, read once its lease is known (the cloud's when it is the same).
  const kernelStatus = async (domain: string, signal: AbortSignal): Promise<RouteStatusRead> =>
    (domain === opts.routeDomain || !opts.routeStatusOf ? published : await statusStore(domain).listRouteStatus(signal));
  // The controller's validator, without a reader's own rules: the audit sees the cluster as the controller does.
  const view = new LeaseValidator({ config: opts.config, prefixRule: opts.leases.prefixRule }).validate(snapshot.leases);
  const [cloud, kernel] = await Promise.all([
    opts.cloud ? observeCloud(readOnly(opts.cloud), view.valid, opts) : undefined,
    opts.kernel ? observeKernel(snapshot.leases, kernelStatus, { ...opts.kernel, config: opts.config, now: (opts.now ?? Date.now)(), prefixRule: opts.leases.prefixRule }, deadline) : undefined,
  ]);
  if (cloud && opts.plan) {
    const plan = planRoutes(cloud.drift, { trusted: true, budget: opts.plan.budget, protect: protectedDestinations(snapshot, view.invalid) });
    return build({ ...cloud, plan });
  }
  return build(cloud);

  function build(c: CloudObservation | undefined): AuditReport {
    return buildReport({
      generatedAt: new Date((opts.now ?? Date.now)()).toISOString(),
      store: opts.store, snapshot, valid: view.valid, invalid: view.invalid, published, cloud: c, kernel,
    });
  }
}

/** Hosts, then tables; the drift compares them with the controller's own rules. */
async function observeCloud(reader: RouteTableReader, leases: readonly Lease[], opts: AuditOptions): Promise<CloudObservation> {
  const api = `the ${reader.provider} API`;
  const nextHops = await opts.deadline.read('cloud', `looking up the leases' hosts in ${api}`, (signal) => resolveLeaseHosts(reader, leases.filter(routedIn(opts.routeDomain)), signal));
  const listed = await opts.deadline.read('cloud', `reading the route tables from ${api}`, (signal) => observeTables(reader, signal));
  // Ownership as the controller judges it: from its ledger where the cloud cannot mark routes.
  const ledger = opts.ledger;
  const tables = ledger
    ? applyLedger({
      tables: listed, ledger: await opts.deadline.read('etcd', 'reading the ownership ledger', (signal) => ledger.listLedger(signal)),
      desired: desiredNextHops(leases, nextHops, opts.routeDomain), marks: reader.marksRoutes !== false, now: new Date().toISOString(),
    }).tables
    : listed;
  // No managed table is a wrong selector (tag, ids), not a clean cluster: nothing could be checked.
  if (tables.length === 0) throw new CouldNotAuditError('cloud', `${api} found no managed route table (check --route-table-ids / --route-table-tag / --cluster-name)`);
  const networks = [opts.config.ipv4?.network, opts.config.ipv6?.network].filter((n): n is Cidr => n !== undefined);
  const drift = computeDrift({ leases, nextHops, tables, networks, routeDomain: opts.routeDomain });
  return { provider: reader.provider, tables, drift, apiCalls: reader.calls() };
}

async function resolveLeaseHosts(reader: RouteTableReader, leases: readonly Lease[], signal: AbortSignal): Promise<ReadonlyMap<string, NextHop>> {
  const hosts = new Map<string, HostRef>();
  for (const l of leases) if (!hosts.has(l.attrs.publicIp)) hosts.set(l.attrs.publicIp, hostRef(l));
  return hosts.size === 0 ? new Map() : await reader.resolveHosts([...hosts.values()], signal);
}

async function observeKernel(
  leases: readonly Lease[], statusOf: (routeDomain: string, signal: AbortSignal) => Promise<RouteStatusRead>,
  k: NonNullable<AuditOptions['kernel']> & { readonly config: NetworkConfig; readonly now: number; readonly prefixRule: LeaseReader['prefixRule'] }, deadline: Deadline,
): Promise<KernelReport> {
  const where = k.netns ? `reading the kernel (network namespace ${k.netns})` : 'reading the kernel';
  // As the agent does: its own route domain's statuses, and only while the controller's heartbeat is fresh.
  const status = async (routeDomain: string, signal: AbortSignal): Promise<ReadonlyMap<string, RouteStatus>> => {
    const read = await statusOf(routeDomain, signal);
    return heartbeatFresh(read.heartbeat, k.now) ? read.statuses : new Map();
  };
  return await deadline.read('kernel', where, (signal) => auditKernel({ ...k, leases, status, signal }));
}
