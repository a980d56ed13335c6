// The audit report: what `--output json` prints (schemaVersion 1, documented in
// SCHEMA.md) and what the table renderer reads. Every field is always present;
// "nothing" is null or an empty list, so consumers never test for absence. Field
// names are a contract: add fields, never rename or remove them within a version.
import type { DriftKind } from '../controller/drift.ts';
import type { RouteState } from '../lease/route-status.ts';

export const SCHEMA_VERSION = 1;

/**
 * ok: nothing to report (exit 0); drift: something differs (exit 1); error: the
 * audit could not be done (exit 2); invalid: no drift, but leases the validator set
 * aside (exit 3): nothing is programmed for them anywhere, and someone wrote them.
 */
export type AuditResult = 'ok' | 'drift' | 'error' | 'invalid';

export interface NextHopJson {
  readonly kind: 'instance' | 'eni';
  readonly id: string;
}

export interface AuditReport {
  readonly schemaVersion: typeof SCHEMA_VERSION;
  /** ISO 8601, when the audit finished observing. */
  readonly generatedAt: string;
  readonly result: AuditResult;
  readonly summary: AuditSummary;
  readonly sources: AuditSources;
  /** Per managed route table; empty when the cloud was not audited. */
  readonly tables: readonly TableReport[];
  /** Per lease (subnet) with anything to report, sorted by lease key. */
  readonly subnets: readonly SubnetReport[];
  /** Lease keys whose host is not in the provider's network (on-prem, another cloud): not drift. */
  readonly outOfDomain: readonly string[];
  /** Lease keys whose value does not parse: drift (the subnet is routed nowhere). */
  readonly unreadableLeases: readonly { readonly lease: string; readonly error: string }[];
  /** Leases that parse but fail the lease validator (src/lease/validate.ts): invalid, not drift. */
  readonly invalidLeases: readonly InvalidLeaseJson[];
  /** The controller's published route status vs what the audit observed. */
  readonly statusDisagreements: readonly StatusDisagreement[];
  /** Null unless --kernel. */
  readonly kernel: KernelReport | null;
  /** Null unless --plan (and a cloud was audited). */
  readonly plan: PlanReport | null;
  /** Null unless result is `error`. */
  readonly error: AuditError | null;
}

export interface InvalidLeaseJson {
  readonly lease: string;
  /** A reason code: key, prefix-length, outside-network, no-ipv6-network, overlap, underlay, public-ip, own-address, vtep-mac, vni, port. */
  readonly reason: string;
  readonly message: string;
  /** What the lease would have been. */
  readonly would: { readonly subnet: string; readonly ipv6Subnet: string | null; readonly publicIp: string; readonly backendType: string };
}

export interface AuditSummary {
  /** Leases that parse and pass the validator. */
  readonly leases: number;
  readonly unreadableLeases: number;
  readonly invalidLeases: number;
  /** In-domain leases whose route is ok in every table (all leases when the cloud was not audited). */
  readonly leasesOk: number;
  readonly outOfDomain: number;
  readonly tables: number;
  readonly tablesWithDrift: number;
  /** Route drift items across tables, by kind (`ok` counts routes that are right). */
  readonly routes: Readonly<Record<DriftKind, number>>;
  readonly statusDisagreements: number;
  /** Null unless --kernel. */
  readonly kernel: KernelCounts | null;
  /** Everything that makes result `drift`: route items not ok + unreadable leases + status disagreements + kernel items. */
  readonly problems: number;
}

export interface AuditSources {
  readonly leases: { readonly store: string; readonly prefix: string; readonly revision: number | null };
  /** Null when the cloud was not audited (`--provider none` or no provider configured). */
  readonly cloud: { readonly provider: string; readonly apiCalls: Readonly<Record<string, Readonly<Record<string, number>>>> } | null;
  /** Whether the controller's route status was read (it is, whenever the lease store answers). */
  /**
   * `heartbeat`: when the controller last observed the tables (null: never); `fresh`:
   * whether agents trust the statuses now (route status is used only while fresh).
   */
  readonly routeStatus: { readonly entries: number; readonly heartbeat: string | null; readonly fresh: boolean };
}

export interface TableReport {
  readonly id: string;
  readonly name: string | null;
  readonly capacity: { readonly used: number; readonly quota: number; readonly free: number };
  readonly counts: Readonly<Record<DriftKind, number>>;
  /** Items that are not ok, sorted by destination. */
  readonly drift: readonly RouteDriftItem[];
}

export interface RouteDriftItem {
  readonly table: string;
  readonly destination: string;
  readonly kind: Exclude<DriftKind, 'ok'>;
  readonly lease: string | null;
  /** The next hop the lease's host resolves to. */
  readonly want: NextHopJson | null;
  /** The route as observed (owned or foreign); null when there is none. */
  readonly have: { readonly nextHop: NextHopJson | null; readonly state: 'active' | 'blackhole' | 'pending'; readonly owned: boolean } | null;
}

export interface SubnetReport {
  readonly lease: string;
  readonly subnet: string;
  readonly publicIp: string;
  /** The route state the audit derives (the controller's rule), or null when out of domain / cloud not audited. */
  readonly route: RouteState | null;
  /** The route state the controller last published, or null when there is none. */
  readonly published: RouteState | null;
  /** One line per thing wrong with this subnet, e.g. `rtb-1: missing`. */
  readonly problems: readonly string[];
}

export type StatusDisagreementKind = 'mismatch' | 'missing' | 'orphan' | 'unreadable' | 'stale';

export interface StatusDisagreement {
  readonly lease: string;
  readonly kind: StatusDisagreementKind;
  /** The table the disagreement is about, or null when it is about the whole status. */
  readonly table: string | null;
  readonly published: string | null;
  readonly observed: string | null;
  readonly message: string;
}

export interface KernelCounts {
  readonly missing: number;
  readonly extra: number;
  readonly different: number;
}

export type KernelDriftKind = 'missing' | 'extra' | 'different';

export interface KernelObjectJson {
  readonly kind: 'route' | 'neigh' | 'fdb';
  /** The object's identity (`route 10.5.2.0/24`, `neigh flannel.1 10.5.2.0`, `fdb flannel.1 <mac>`). */
  readonly key: string;
  /** One line, as `ip` would show it. */
  readonly text: string;
}

export interface KernelDriftItem {
  readonly kind: KernelDriftKind;
  /** The peer lease the object belongs to, or null for an extra object no lease accounts for. */
  readonly peer: string | null;
  /** missing/different: what the agent should have; extra: what the kernel has. */
  readonly object: KernelObjectJson;
  /** different: what the kernel has instead; otherwise null. */
  readonly have: KernelObjectJson | null;
}

export interface KernelReport {
  readonly netns: string | null;
  readonly backend: string;
  /** This host's own lease (excluded from peers). */
  readonly ownLease: string;
  /** The route domain this host's agent published in its lease (hybrid mode), or null. */
  readonly routeDomain: string | null;
  /** Peers the kernel should reach (the agent's BackendType, not VPC-routed). */
  readonly peers: number;
  /** Peers in this host's route domain whose cloud route the controller reports programmed: nothing for them in the kernel. */
  readonly cloudRoutedPeers: number;
  readonly objects: { readonly expected: number; readonly observed: number };
  readonly counts: KernelCounts;
  readonly drift: readonly KernelDriftItem[];
  /** Peers the agent skips (bad BackendData, clashing objects): their existing objects are kept, not extra. */
  readonly skippedPeers: readonly { readonly lease: string; readonly reason: string }[];
}

export type PlanAction =
  | { readonly op: 'create'; readonly table: string; readonly destination: string; readonly nextHop: NextHopJson; readonly lease: string }
  | { readonly op: 'replace'; readonly table: string; readonly destination: string; readonly nextHop: NextHopJson; readonly lease: string; readonly old: NextHopJson | null }
  | { readonly op: 'delete'; readonly table: string; readonly destination: string; readonly nextHop: NextHopJson | null };

export interface PlanReport {
  readonly actions: readonly PlanAction[];
  readonly held: { readonly deletions: number; readonly reason: string | null };
}

export interface AuditError {
  /** Which input could not be read: `etcd`, `cloud`, `kernel`, `config`. */
  readonly source: string;
  readonly message: string;
}
