// `tartan controller`: leader-elected; the leader maps every lease to route
// entries in every managed cloud route table and publishes route status.
import { hostname } from 'node:os';
import { Controller } from '../controller/controller.ts';
import { defaultIdentity } from '../lease/election.ts';
import { ipAddress } from '../config/checks.ts';
import { parseCommandLine } from '../config/command-line.ts';
import { flagTable } from '../config/flags.ts';
import { EtcdElector } from '../lease/etcd-election.ts';
import { Health } from '../observe/health.ts';
import { type Handler, startHttpServer } from '../observe/http.ts';
import { createLogger } from '../observe/log.ts';
import { type ControllerMetrics, createControllerMetrics } from '../observe/metrics.ts';
import { ETCD_FLAGS, etcdStoreFromFlags } from './etcd-flags.ts';
import { ETCD_START_FLAGS, waitForEtcd } from './etcd-start.ts';
import { loadNetworkConfig } from './network-config.ts';
import { PROVIDER_FLAGS, buildProvider } from './provider-flags.ts';
import { EtcdLedger } from '../lease/etcd-ledger.ts';

/** The deletion budget; `tartan audit --plan` takes the same flags. */
export const BUDGET_FLAGS = flagTable([
  { name: 'deletion-budget-percent', type: 'int', default: 10, min: 0, max: 100, help: 'delete at most this % of owned routes per pass…' },
  { name: 'deletion-budget-min', type: 'int', default: 5, min: 0, help: '…or this many, whichever is larger' },
  { name: 'force-deletions', type: 'boolean', default: false, help: 'ignore the deletion budget' },
]);

export const CONTROLLER_FLAGS = flagTable([
  ...ETCD_FLAGS,
  ...ETCD_START_FLAGS,
  ...PROVIDER_FLAGS,
  { name: 'net-config-path', type: 'string', help: 'read the network config from this file instead of <etcd-prefix>/config' },
  { name: 'resync-period', type: 'duration', default: '60s', min: '1s', max: '24h', help: 'full resync: re-list every table and repair drift' },
  { name: 'pass-timeout', type: 'duration', default: '5m', min: '1s', max: '1h', help: 'deadline of one whole pass (observe, plan, act, publish); a pass past it is aborted, logged and counted, and the next one runs' },
  { name: 'leader-elect-ttl', type: 'duration', default: '15s', min: '2s', max: '5m', help: 'etcd lease TTL of <etcd-prefix>/controller/leader' },
  { name: 'identity', type: 'string', help: 'leader identity (default hostname + random id)' },
  ...BUDGET_FLAGS,
  { name: 'concurrency', type: 'int', default: 16, min: 1, max: 200, help: 'cloud operations in flight at once (the provider still rate-limits)' },
  { name: 'metrics-ip', type: 'string', default: '127.0.0.1', check: ipAddress, help: 'address for /metrics, /healthz, /readyz' },
  { name: 'metrics-port', type: 'int', default: 0, min: 0, max: 65535, help: 'port for /metrics, /healthz, /readyz (0 = off)' },
  { name: 'log-level', type: 'string', default: 'info', choices: ['debug', 'info', 'warn', 'error'], help: 'log level' },
]);

export const CONTROLLER_SUMMARY = 'Leader-elected: writes every lease into every managed cloud route table and publishes route status.';

export const CONTROLLER_COMMAND = { name: 'controller', summary: CONTROLLER_SUMMARY, flags: CONTROLLER_FLAGS };

/** Exit codes: 0 stopped by signal; 1 fatal error; 2 bad flag or config; 4 leadership lost (restart clean). */
export async function runController(argv: readonly string[], root: AbortSignal): Promise<number> {
  const line = parseCommandLine(CONTROLLER_COMMAND, argv, process.env);
  if (line.help !== undefined) {
    process.stdout.write(line.help);
    return 0;
  }
  const values = line.options;
  const log = createLogger({ level: values['log-level'], name: 'controller' });
  // The one shutdown path: whatever ends this function (signal, leadership lost, a
  // fatal error) aborts `scope`, which closes the HTTP server, the watch and the loops.
  const scope = new AbortController();
  const signal = AbortSignal.any([root, scope.signal]);
  const health = new Health();
  let leading = false;
  const { client, store } = etcdStoreFromFlags(values);
  try {
    const built: { metrics?: ControllerMetrics } = {};
    const port = values['metrics-port'];
    if (port > 0) {
      await startHttpServer({
        host: values['metrics-ip'], port, signal,
        routes: healthRoutes(health, () => (leading ? 'leading' : 'standby'), () => built.metrics),
      });
    }
    const config = await waitForEtcd(
      { endpoints: values['etcd-endpoints'], timeoutMs: values['etcd-start-timeout'], log, health, signal },
      () => loadNetworkConfig(values['net-config-path'], () => store.getNetworkConfig(signal)),
    );
    const provider = await buildProvider(values, config, log);
    const metrics = createControllerMetrics(() => provider.calls());
    built.metrics = metrics;
    const identity = values.identity ?? defaultIdentity(hostname());
    const elector = new EtcdElector({
      client, prefix: store.prefix, identity, ttlSeconds: values['leader-elect-ttl'] / 1000,
      onEvent: (msg, fields) => log.info(fields ?? {}, msg),
    });
    const controller = new Controller({
      leases: store, config, provider, status: store, log, metrics, health,
      ledger: new EtcdLedger({ client, prefix: store.prefix, cluster: values['cluster-name'] }),
      passTimeoutMs: values['pass-timeout'],
      budget: { percent: values['deletion-budget-percent'], min: values['deletion-budget-min'], force: values['force-deletions'] },
      resyncMs: values['resync-period'],
      concurrency: values.concurrency,
    });
    log.info({ identity, provider: provider.provider }, 'campaigning for leadership');
    const leadership = await elector.campaign(signal);
    leading = true;
    metrics.leader.set(1);
    const acting = AbortSignal.any([signal, leadership.lost]);
    // Lease events only wake the loop; every pass lists the leases itself.
    const { revision } = await store.list(acting);
    const watching = store.watch({ fromRevision: revision + 1, signal: acting, onEvents: () => controller.wake() });
    await Promise.all([controller.run(acting), watching]);
    leading = false;
    metrics.leader.set(0);
    if (leadership.lost.aborted && !signal.aborted) {
      log.error({ identity, why: String(leadership.lost.reason) }, 'leadership lost: stopped acting; exiting to restart clean');
      return 4;
    }
    await leadership.resign();
    log.info({ identity }, 'stopped and resigned leadership');
    return 0;
  } catch (err) {
    // Stopped by a signal while starting or campaigning: a clean stop, not a failure.
    if (root.aborted) {
      log.info({ why: String(root.reason) }, 'stopped');
      return 0;
    }
    throw err;
  } finally {
    scope.abort(new Error('controller stopped'));
    client.close();
  }
}

/** /healthz and /readyz from the one Health (controller.ts adds the pass's facts, others their reasons); /metrics once built. */
function healthRoutes(health: Health, state: () => string, metrics: () => ControllerMetrics | undefined): Record<string, Handler> {
  return {
    '/metrics': async () => {
      const m = metrics();
      return m ? { status: 200, body: await m.registry.metrics(), contentType: m.registry.contentType } : { status: 503, body: 'starting\n' };
    },
    '/healthz': () => health.liveness(state()),
    '/readyz': () => health.readiness(state()),
  };
}
