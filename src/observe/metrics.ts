// Prometheus metrics (prom-client), one registry per process, created explicitly.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ApiCallCounts } from '../../providers/route-table.ts';

import type { InvalidLease } from '../lease/validate.ts';

export interface ControllerMetrics {
  readonly registry: Registry;
  readonly leader: Gauge;
  readonly passDuration: Histogram;
  readonly passes: Counter<'result'>;
  readonly routes: Gauge<'state'>;
  readonly lastSuccess: Gauge;
  readonly heldDeletions: Gauge;
  readonly invalidLeases: Gauge<'reason'>;
  /** Route tables the selector found in the last pass (0: the controller manages nothing, and says so). */
  readonly managedTables: Gauge;
}

export interface AgentMetrics {
  readonly registry: Registry;
  readonly invalidLeases: Gauge<'reason'>;
  /** Kernel changes refused (or waiting out their backoff) after the last sync: a warning, never a liveness failure. */
  readonly kernelRefused: Gauge;
  /** Hybrid: 1 while the controller's route status is fresh (the VPC path may be used), 0 while every peer takes the kernel path. */
  readonly routeStatusFresh: Gauge;
}

/** tartan_invalid_leases{reason}: the same gauge on agents and the controller. */
function invalidLeasesGauge(registry: Registry): Gauge<'reason'> {
  return new Gauge({ name: 'tartan_invalid_leases', help: 'Leases the validator set aside, by reason (nothing is programmed for them)', labelNames: ['reason'], registers: [registry] });
}

/** Sets the gauge to the counts of one validation. */
export function recordInvalidLeases(gauge: Gauge<'reason'>, invalid: readonly InvalidLease[]): void {
  gauge.reset();
  const counts = new Map<string, number>();
  for (const i of invalid) counts.set(i.reason, (counts.get(i.reason) ?? 0) + 1);
  for (const [reason, n] of counts) gauge.set({ reason }, n);
}

export function createAgentMetrics(): AgentMetrics {
  const registry = new Registry();
  return {
    registry, invalidLeases: invalidLeasesGauge(registry),
    kernelRefused: new Gauge({ name: 'tartan_agent_kernel_refused', help: 'Kernel changes refused (or in backoff) after the last sync', registers: [registry] }),
    routeStatusFresh: new Gauge({ name: 'tartan_agent_route_status_fresh', help: '1 while the controller\'s route status is fresh enough to use the VPC path (hybrid), else 0', registers: [registry] }),
  };
}

export function createControllerMetrics(apiCalls: () => ApiCallCounts): ControllerMetrics {
  const registry = new Registry();
  const m: ControllerMetrics = {
    registry,
    leader: new Gauge({ name: 'tartan_controller_leader', help: '1 while this replica leads', registers: [registry] }),
    passDuration: new Histogram({
      name: 'tartan_controller_pass_duration_seconds', help: 'Duration of one observe-plan-act pass',
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120, 600], registers: [registry],
    }),
    passes: new Counter({ name: 'tartan_controller_passes_total', help: 'Passes by result', labelNames: ['result'], registers: [registry] }),
    routes: new Gauge({
      name: 'tartan_controller_routes', help: 'Leases by route state (desired = in the route domain)',
      labelNames: ['state'], registers: [registry],
    }),
    lastSuccess: new Gauge({ name: 'tartan_controller_last_success_timestamp_seconds', help: 'End of the last successful pass', registers: [registry] }),
    heldDeletions: new Gauge({ name: 'tartan_controller_held_deletions', help: 'Deletions held back by fail-static or the budget in the last pass', registers: [registry] }),
    invalidLeases: invalidLeasesGauge(registry),
    managedTables: new Gauge({ name: 'tartan_managed_route_tables', help: 'Route tables the controller found by its selector in the last pass', registers: [registry] }),
  };
  new Gauge({
    name: 'tartan_cloud_api_calls_total', help: 'Cloud API calls by operation and result',
    labelNames: ['operation', 'result'], registers: [registry],
    collect() {
      this.reset();
      for (const [operation, byResult] of Object.entries(apiCalls())) {
        for (const [result, n] of Object.entries(byResult)) this.set({ operation, result }, n);
      }
    },
  });
  return m;
}
