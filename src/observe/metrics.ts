// Prometheus metrics (prom-client), one registry per process, created explicitly.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ApiCallCounts } from '../../providers/route-table.ts';

export interface ControllerMetrics {
  readonly registry: Registry;
  readonly leader: Gauge;
  readonly passDuration: Histogram;
  readonly passes: Counter<'result'>;
  readonly routes: Gauge<'state'>;
  readonly lastSuccess: Gauge;
  readonly heldDeletions: Gauge;
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
