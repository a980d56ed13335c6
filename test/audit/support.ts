// Shared setup for the audit's integration tests: leases and route status written
// straight into a real etcd (flannel's keys), and one call that audits and renders
// the way the CLI does.
import { execFile } from 'node:child_process';
import type { Etcd3 } from 'etcd3';
import { audit, deadline, exitCodeFor, renderJson, renderTable, type AuditOptions, type AuditReport } from '../../src/audit/index.ts';
import { DEFAULT_BUDGET } from '../../src/controller/planner.ts';
import { type JsonValue, EtcdLeaseStore, type RouteState, encodeLeaseAttrs } from '../../src/lease/index.ts';
import type { RouteTableReader } from '../../providers/route-table.ts';
import { uniquePrefix } from '../support/etcd.ts';

export const NETWORK = '10.244.0.0/16';
/** Lease n: subnet 10.244.n.0/24. */
export const subnet = (n: number): string => `10.244.${n}.0/24`;
export const key = (n: number): string => `10.244.${n}.0-24`;
/** The VTEP MAC a seeded vxlan lease publishes (leases without one are invalid). */
export const seedMac = (n: number): string => `0e:00:00:00:${((n >> 8) & 255).toString(16).padStart(2, '0')}:${(n & 255).toString(16).padStart(2, '0')}`;

export interface SeedLease {
  readonly n: number;
  /** The subnet key when not `10.244.<n>.0-24`. */
  readonly key?: string;
  readonly publicIp: string;
  readonly backendType?: string;
  readonly backendData?: JsonValue;
}

/** A fresh prefix with a network config and these leases (keys without an etcd lease: reservations, which list like any lease). */
export async function seedStore(
  client: Etcd3, leases: readonly SeedLease[], backend: Record<string, JsonValue> = { Type: 'aws-vpc' }, network = NETWORK,
): Promise<EtcdLeaseStore> {
  const store = new EtcdLeaseStore({ client, prefix: uniquePrefix('audit') });
  await client.put(`${store.prefix}/config`).value(JSON.stringify({ Network: network, Backend: backend }));
  for (let i = 0; i < leases.length; i += 200) {
    await Promise.all(leases.slice(i, i + 200).map((l) =>
      client.put(`${store.subnetsPrefix}${l.key ?? key(l.n)}`).value(encodeLeaseAttrs({ publicIp: l.publicIp, backendType: l.backendType ?? 'vxlan', backendData: l.backendData ?? { VNI: 1, VtepMAC: seedMac(l.n), RouteDomain: 'aws:vpc-1' } })).exec()));
  }
  return store;
}

/** The controller's status value for a lease, as the StatusPublisher writes it. */
export async function putStatus(store: EtcdLeaseStore, n: number, state: RouteState, tables: Record<string, RouteState>): Promise<void> {
  const signal = new AbortController().signal;
  await store.putRouteStatus(key(n), { state, tables, provider: 'test', updated: new Date().toISOString() }, signal);
  // A controller that just observed the tables: its statuses are fresh.
  await store.writeHeartbeat({ observed: new Date().toISOString(), resyncSeconds: 60, provider: 'test' }, signal);
}

export interface Audited {
  readonly report: AuditReport;
  readonly text: string;
  readonly json: AuditReport;
  readonly code: number;
}

export async function runAudit(store: EtcdLeaseStore, cloud: RouteTableReader | undefined, extra: Partial<AuditOptions> = {}): Promise<Audited> {
  const report = await audit({
    leases: store,
    config: await store.getNetworkConfig(new AbortController().signal),
    store: { store: 'etcd test', prefix: store.prefix },
    cloud,
    plan: { budget: DEFAULT_BUDGET },
    deadline: deadline(20_000, new AbortController().signal),
    ...extra,
  });
  return {
    report,
    text: renderTable(report, { color: false, limit: 0 }),
    json: JSON.parse(renderJson(report)) as AuditReport,
    code: exitCodeFor(report),
  };
}

export interface CliRun { readonly code: number; readonly stdout: string; readonly stderr: string }

/** `tartan audit …` as a process, as a user runs it, with `env` over this process's environment (undefined removes a variable). */
export function auditCli(args: readonly string[], env: NodeJS.ProcessEnv): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['src/cli/main.ts', 'audit', ...args], { timeout: 60_000, env: { ...process.env, NO_COLOR: undefined, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}
