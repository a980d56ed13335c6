// `--output json`: the AuditReport as it is (schemaVersion 1, SCHEMA.md), and the
// same envelope with result "error" when the audit could not be done, so a CI
// step can always parse stdout.
import type { DriftKind } from '../controller/drift.ts';
import { type AuditError, type AuditReport, SCHEMA_VERSION } from './report.ts';

export function renderJson(report: AuditReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

const NO_ROUTES: Readonly<Record<DriftKind, number>> = { ok: 0, missing: 0, overflow: 0, 'wrong-next-hop': 0, blackhole: 0, stale: 0, conflict: 0 };

/** The report of an audit that could not be done (exit 2). */
export function errorReport(error: AuditError, generatedAt: string): AuditReport {
  return {
    schemaVersion: SCHEMA_VERSION,
    generatedAt,
    result: 'error',
    summary: {
      leases: 0, unreadableLeases: 0, invalidLeases: 0, leasesOk: 0, outOfDomain: 0, tables: 0, tablesWithDrift: 0,
      routes: NO_ROUTES, statusDisagreements: 0, kernel: null, problems: 0,
    },
    sources: { leases: { store: '', prefix: '', revision: null }, cloud: null, routeStatus: { entries: 0, heartbeat: null, fresh: false } },
    tables: [],
    subnets: [],
    outOfDomain: [],
    unreadableLeases: [],
    invalidLeases: [],
    statusDisagreements: [],
    kernel: null,
    plan: null,
    error,
  };
}
