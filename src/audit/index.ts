// src/audit: `tartan audit`'s drift report — leases vs cloud route tables vs the
// kernel, read-only. The JSON schema is documented in SCHEMA.md.
export { type AuditOptions, audit } from './audit.ts';
export { type BuildInput, type CloudObservation, buildReport } from './build.ts';
export { CouldNotAuditError, type Deadline, deadline } from './deadline.ts';
export { type KernelAuditOptions, auditKernel } from './kernel-observe.ts';
export { kernelDrift } from './kernel.ts';
export { readOnly } from './read-only.ts';
export { errorReport, renderJson } from './render-json.ts';
export { type TableOptions, renderTable } from './render-table.ts';
export type * from './report.ts';
export { SCHEMA_VERSION } from './report.ts';
export { statusDisagreements } from './status.ts';
export { summaryLine } from './summary.ts';

import type { AuditReport } from './report.ts';

/** 0 clean, 1 drift found, 2 could not audit, 3 no drift but invalid leases set aside. */
export function exitCodeFor(report: AuditReport): 0 | 1 | 2 | 3 {
  return report.result === 'ok' ? 0 : report.result === 'drift' ? 1 : report.result === 'invalid' ? 3 : 2;
}
