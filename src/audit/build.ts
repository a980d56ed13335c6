// Observations in, one AuditReport out. Pure: the drift itself is the controller's
// (computeDrift), the route states its planner's (leaseStatuses), the plan its
// planner's (planRoutes); this file only arranges them per table and per subnet.
import { countByKind, type Drift, type DriftItem, type DriftKind } from '../controller/drift.ts';
import type { ObservedTable } from '../controller/observe.ts';
import { type RouteAction, type RoutePlan, leaseStatuses } from '../controller/planner.ts';
import type { Lease } from '../lease/lease.ts';
import { type RouteStatusRead, heartbeatFresh } from '../lease/route-status.ts';
import type { InvalidLease } from '../lease/validate.ts';
import type { LeaseSnapshot } from '../lease/store.ts';
import { formatCidr, parseCidr } from '../net/cidr.ts';
import type { ApiCallCounts, NextHop } from '../../providers/route-table.ts';
import {
  type AuditReport, type AuditSummary, type KernelReport, type NextHopJson, type PlanAction, type PlanReport,
  type RouteDriftItem, type StatusDisagreement, type SubnetReport, type TableReport, SCHEMA_VERSION,
} from './report.ts';
import { statusDisagreements } from './status.ts';

export interface CloudObservation {
  readonly provider: string;
  readonly tables: readonly ObservedTable[];
  readonly drift: Drift;
  readonly apiCalls: ApiCallCounts;
  /** Present when --plan asked for the controller's repair plan. */
  readonly plan?: RoutePlan | undefined;
}

export interface BuildInput {
  readonly generatedAt: string;
  readonly store: { readonly store: string; readonly prefix: string };
  readonly snapshot: LeaseSnapshot;
  /** The snapshot's leases that passed the validator, and the ones it set aside. */
  readonly valid: readonly Lease[];
  readonly invalid: readonly InvalidLease[];
  readonly published: RouteStatusRead;
  readonly cloud?: CloudObservation | undefined;
  readonly kernel?: KernelReport | undefined;
}

export function buildReport(input: BuildInput): AuditReport {
  const { snapshot, cloud, kernel } = input;
  const status = statusDisagreements({
    now: Date.parse(input.generatedAt),
    published: input.published,
    leaseKeys: new Set(input.valid.map((l) => l.key)),
    // Leases that do not parse or did not pass the validator keep their status (the controller's fail static).
    unreadableKeys: new Set([...snapshot.skipped.map((s) => s.key), ...input.invalid.map((i) => i.key)]),
    drift: cloud?.drift,
  });
  const tables = cloud ? cloud.tables.map((t, i) => tableReport(t, cloud.drift.tables[i]!.items)) : [];
  const subnets = subnetReports(input, status);
  const routes = cloud ? countByKind(cloud.drift) : countByKind({ tables: [], outOfDomain: [] });
  const kernelCounts = kernel ? kernel.counts : null;
  const routeProblems = Object.entries(routes).reduce((n, [kind, c]) => (kind === 'ok' ? n : n + c), 0);
  const problems = routeProblems + snapshot.skipped.length + status.length +
    (kernelCounts ? kernelCounts.missing + kernelCounts.extra + kernelCounts.different : 0);
  const outOfDomain = cloud ? [...cloud.drift.outOfDomain] : [];
  const summary: AuditSummary = {
    leases: input.valid.length,
    unreadableLeases: snapshot.skipped.length,
    invalidLeases: input.invalid.length,
    leasesOk: input.valid.length - subnets.length,
    outOfDomain: outOfDomain.length,
    tables: tables.length,
    tablesWithDrift: tables.filter((t) => t.drift.length > 0).length,
    routes,
    statusDisagreements: status.length,
    kernel: kernelCounts,
    problems,
  };
  return {
    schemaVersion: SCHEMA_VERSION,
    generatedAt: input.generatedAt,
    result: problems > 0 ? 'drift' : input.invalid.length > 0 ? 'invalid' : 'ok',
    summary,
    sources: {
      leases: { ...input.store, revision: snapshot.revision },
      cloud: cloud ? { provider: cloud.provider, apiCalls: cloud.apiCalls } : null,
      routeStatus: { entries: input.published.statuses.size + input.published.unreadable.size, heartbeat: input.published.heartbeat?.observed ?? null, fresh: heartbeatFresh(input.published.heartbeat, Date.parse(input.generatedAt)) },
    },
    tables,
    subnets,
    outOfDomain,
    unreadableLeases: snapshot.skipped.map((s) => ({ lease: s.key, error: s.error.message })),
    invalidLeases: input.invalid.map((i) => ({
      lease: i.key, reason: i.reason, message: i.message,
      would: { subnet: i.would.subnet, ipv6Subnet: i.would.ipv6Subnet ?? null, publicIp: i.would.publicIp, backendType: i.would.backendType },
    })),
    statusDisagreements: status,
    kernel: kernel ?? null,
    plan: cloud?.plan ? planReport(cloud.plan) : null,
    error: null,
  };
}

function tableReport(t: ObservedTable, items: readonly DriftItem[]): TableReport {
  const counts = countByKind({ tables: [{ table: t.table, capacity: t.capacity, items }], outOfDomain: [] });
  const drift = items.filter((i) => i.kind !== 'ok').map(driftItem).sort((a, b) => compareCidr(a.destination, b.destination));
  return {
    id: t.table,
    name: t.name ?? null,
    capacity: { used: t.capacity.used, quota: t.capacity.quota, free: Math.max(0, t.capacity.quota - t.capacity.used) },
    counts,
    drift,
  };
}

function driftItem(i: DriftItem): RouteDriftItem {
  return {
    table: i.table,
    destination: i.destination,
    kind: i.kind as Exclude<DriftKind, 'ok'>,
    lease: i.leaseKey ?? null,
    want: hop(i.want),
    have: i.have ? { nextHop: hop(i.have.nextHop), state: i.have.state, owned: i.have.owned } : null,
  };
}

function subnetReports(input: BuildInput, status: readonly StatusDisagreement[]): SubnetReport[] {
  const problems = new Map<string, string[]>();
  const add = (lease: string, text: string): void => {
    const list = problems.get(lease) ?? [];
    list.push(text);
    problems.set(lease, list);
  };
  for (const t of input.cloud?.drift.tables ?? []) {
    for (const i of t.items) if (i.leaseKey && i.kind !== 'ok') add(i.leaseKey, `${t.table}: ${i.kind}`);
  }
  for (const d of status) add(d.lease, `route status: ${d.message}`);
  for (const d of input.kernel?.drift ?? []) if (d.peer) add(d.peer, `kernel: ${d.kind} ${d.object.text}`);
  const computed = input.cloud ? leaseStatuses(input.cloud.drift) : undefined;
  const out: SubnetReport[] = [];
  for (const lease of input.valid) {
    const list = problems.get(lease.key);
    if (!list) continue;
    out.push({
      lease: lease.key,
      subnet: subnetText(lease),
      publicIp: lease.attrs.publicIp,
      route: computed?.get(lease.key)?.state ?? null,
      published: input.published.statuses.get(lease.key)?.state ?? null,
      problems: list,
    });
  }
  return out.sort((a, b) => compareCidr(a.subnet.split(' ')[0]!, b.subnet.split(' ')[0]!));
}

function planReport(plan: RoutePlan): PlanReport {
  return { actions: plan.actions.map(planAction), held: { deletions: plan.held.deletions, reason: plan.held.reason ?? null } };
}

function planAction(a: RouteAction): PlanAction {
  switch (a.op) {
    case 'create':
      return { op: 'create', table: a.table, destination: a.destination, nextHop: hop(a.nextHop)!, lease: a.leaseKey };
    case 'replace':
      return { op: 'replace', table: a.table, destination: a.destination, nextHop: hop(a.nextHop)!, lease: a.leaseKey, old: hop(a.old.nextHop) };
    case 'delete':
      return { op: 'delete', table: a.table, destination: a.route.destination, nextHop: hop(a.route.nextHop) };
  }
}

function hop(h: NextHop | undefined): NextHopJson | null {
  return h ? { kind: h.kind, id: h.id } : null;
}

function subnetText(l: Lease): string {
  return l.ipv6Subnet ? `${formatCidr(l.subnet)} ${formatCidr(l.ipv6Subnet)}` : formatCidr(l.subnet);
}

/** Numeric order (10.244.2.0/24 before 10.244.10.0/24); text order for anything that does not parse. */
export function compareCidr(a: string, b: string): number {
  const pa = tryCidr(a);
  const pb = tryCidr(b);
  if (pa && pb) {
    if (pa.family !== pb.family) return pa.family - pb.family;
    if (pa.addr !== pb.addr) return pa.addr < pb.addr ? -1 : 1;
    return pa.prefix - pb.prefix;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

function tryCidr(text: string): ReturnType<typeof parseCidr> | undefined {
  try {
    return parseCidr(text, 'destination', { allowHostBits: true });
  } catch {
    return undefined;
  }
}
