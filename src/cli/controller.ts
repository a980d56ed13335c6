// `tartan controller`: leader-elected; the leader maps every lease to route
// entries in every managed cloud route table and publishes route status.
import { hostname } from 'node:os';
import { Controller } from '../controller/controller.ts';
import { defaultIdentity } from '../lease/election.ts';
import { type FlagSpec, bool, num, parseFlags, renderHelp, str } from '../config/flags.ts';
import { EtcdElector } from '../lease/etcd-election.ts';
import { startHttpServer, textStatus } from '../observe/http.ts';
import { createLogger } from '../observe/log.ts';
import { createControllerMetrics } from '../observe/metrics.ts';
import { ETCD_FLAGS, etcdStoreFromFlags } from './etcd-flags.ts';
import { loadNetworkConfig } from './network-config.ts';
import { PROVIDER_FLAGS, buildProvider } from './provider-flags.ts';

export const CONTROLLER_FLAGS: readonly FlagSpec[] = [
  ...ETCD_FLAGS,
  ...PROVIDER_FLAGS,
  { name: 'net-config-path', type: 'string', help: 'read the network config from this file instead of <etcd-prefix>/config' },
  { name: 'resync-period', type: 'duration', default: '60s', min: 1000, help: 'full resync: re-list every table and repair drift' },
  { name: 'leader-elect-ttl', type: 'duration', default: '15s', min: 2000, help: 'etcd lease TTL of <etcd-prefix>/controller/leader' },
  { name: 'identity', type: 'string', help: 'leader identity (default hostname + random id)' },
  { name: 'deletion-budget-percent', type: 'int', default: 10, min: 0, max: 100, help: 'delete at most this % of owned routes per pass…' },
  { name: 'deletion-budget-min', type: 'int', default: 5, min: 0, help: '…or this many, whichever is larger' },
  { name: 'force-deletions', type: 'boolean', default: false, help: 'ignore the deletion budget' },
  { name: 'concurrency', type: 'int', default: 16, min: 1, max: 200, help: 'cloud operations in flight at once (the provider still rate-limits)' },
  { name: 'metrics-ip', type: 'string', default: '127.0.0.1', help: 'address for /metrics, /healthz, /readyz' },
  { name: 'metrics-port', type: 'int', default: 0, min: 0, max: 65535, help: 'port for /metrics, /healthz, /readyz (0 = off)' },
  { name: 'log-level', type: 'string', default: 'info', choices: ['debug', 'info', 'warn', 'error'], help: 'log level' },
  { name: 'help', type: 'boolean', help: 'show this help' },
];

export const CONTROLLER_SUMMARY = 'Leader-elected: writes every lease into every managed cloud route table and publishes route status.';

/** Exit codes: 0 stopped by signal; 4 leadership lost (restart clean). */
export async function runController(argv: readonly string[], signal: AbortSignal): Promise<number> {
  const { values } = parseFlags(CONTROLLER_FLAGS, argv, process.env);
  if (bool(values, 'help')) {
    process.stdout.write(renderHelp('controller', CONTROLLER_SUMMARY, CONTROLLER_FLAGS));
    return 0;
  }
  const log = createLogger({ level: str(values, 'log-level'), name: 'controller' });
  const { client, store } = etcdStoreFromFlags(values);
  try {
    const config = await loadNetworkConfig(str(values, 'net-config-path'), () => store.getNetworkConfig(signal));
    const provider = await buildProvider(values, config, log);
    const metrics = createControllerMetrics(() => provider.calls());
    const identity = str(values, 'identity') ?? defaultIdentity(hostname());
    const elector = new EtcdElector({
      client, prefix: store.prefix, identity, ttlSeconds: num(values, 'leader-elect-ttl') / 1000,
      onEvent: (msg, fields) => log.info(fields ?? {}, msg),
    });
    let leading = false;
    const controller = new Controller({
      leases: store, provider, status: store, log, metrics,
      budget: { percent: num(values, 'deletion-budget-percent'), min: num(values, 'deletion-budget-min'), force: bool(values, 'force-deletions') },
      resyncMs: num(values, 'resync-period'),
      concurrency: num(values, 'concurrency'),
    });
    const port = num(values, 'metrics-port');
    if (port > 0) {
      await startHttpServer({
        host: str(values, 'metrics-ip')!, port, signal,
        routes: {
          '/metrics': async () => ({ status: 200, body: await metrics.registry.metrics(), contentType: metrics.registry.contentType }),
          '/healthz': () => textStatus(true, leading ? 'leading' : 'standby'),
          '/readyz': () => textStatus(!leading || controller.lastPass !== undefined, leading ? 'leading' : 'standby'),
        },
      });
    }
    log.info({ identity, provider: provider.provider }, 'campaigning for leadership');
    const leadership = await elector.campaign(signal);
    leading = true;
    metrics.leader.set(1);
    const acting = AbortSignal.any([signal, leadership.lost]);
    // Lease events only wake the loop; every pass lists the leases itself.
    const { revision } = await store.list(acting);
    const watching = store.watch({ fromRevision: revision + 1, signal: acting, onEvents: () => controller.wake() });
    await Promise.all([controller.run(acting), watching]);
    metrics.leader.set(0);
    if (leadership.lost.aborted && !signal.aborted) {
      log.error({ identity, why: String(leadership.lost.reason) }, 'leadership lost: stopped acting; exiting to restart clean');
      return 4;
    }
    await leadership.resign();
    log.info({ identity }, 'stopped and resigned leadership');
    return 0;
  } finally {
    client.close();
  }
}
