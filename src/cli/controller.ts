// `tartan controller`: leader-elected per provider and route domain (one leader per
// cloud network, so an AWS and a GCE controller of one cluster both lead); the
// leader maps the leases of its route domain to route entries in every managed
// cloud route table and publishes their route status under its domain.
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
import type { Etcd3 } from 'etcd3';
import { type ElectionScope, electionScope } from '../controller/election-scope.ts';
import { DomainLedger, scopedLedgerName } from '../controller/ledger-scope.ts';
import { InvalidInputError } from '../errors.ts';
import { type RouteTableReader, canTellRouteDomain } from '../../providers/route-table.ts';
import type { NetworkConfig } from '../config/network.ts';
import type { Logger } from '../observe/log.ts';
import type { LeaderElector } from '../lease/election.ts';
import type { OwnershipLedger } from '../lease/ledger.ts';
import type { LeaseReader, RouteStatusStore } from '../lease/store.ts';
import { KubeLeaseStore } from '../lease/kube.ts';
import { NodeEventingStatus } from '../controller/node-events.ts';
import { KUBE_FLAGS, KUBE_NET_CONFIG_PATH } from './kube-flags.ts';
import type { FlagOptions } from '../config/flags.ts';

/** The deletion budget; `tartan audit --plan` takes the same flags. */
export const BUDGET_FLAGS = flagTable([
  { name: 'deletion-budget-percent', type: 'int', default: 10, min: 0, max: 100, help: 'delete at most this % of owned routes per pass…' },
  { name: 'deletion-budget-min', type: 'int', default: 5, min: 0, help: '…or this many, whichever is larger' },
  { name: 'force-deletions', type: 'boolean', default: false, help: 'ignore the deletion budget' },
]);

export const CONTROLLER_FLAGS = flagTable([
  ...ETCD_FLAGS,
  ...ETCD_START_FLAGS,
  ...KUBE_FLAGS,
  ...PROVIDER_FLAGS,
  { name: 'net-config-path', type: 'string', help: `read the network config from this file instead of <etcd-prefix>/config (Kubernetes mode: default ${KUBE_NET_CONFIG_PATH})` },
  { name: 'resync-period', type: 'duration', default: '60s', min: '1s', max: '24h', help: 'full resync: re-list every table and repair drift' },
  { name: 'pass-timeout', type: 'duration', default: '5m', min: '1s', max: '1h', help: 'deadline of one whole pass (observe, plan, act, publish); a pass past it is aborted, logged and counted, and the next one runs' },
  { name: 'leader-elect-ttl', type: 'duration', default: '15s', min: '2s', max: '5m', help: 'etcd lease TTL of <etcd-prefix>/controller/leader/<provider>/<route-domain>' },
  { name: 'leader-elect-resource-namespace', type: 'string', help: 'Kubernetes mode: namespace of the coordination.k8s.io Lease elected on (default $POD_NAMESPACE, else kube-system)' },
  { name: 'leader-elect-resource-name', type: 'string', help: 'Kubernetes mode: name of that Lease (default tartan-<route-domain>, one per cloud network)' },
  { name: 'leader-elect-lease-duration', type: 'duration', default: '15s', min: '1s', max: '5m', help: 'Kubernetes mode: how long a Lease not renewed keeps others waiting (client-go\'s LeaseDuration)' },
  { name: 'leader-elect-renew-deadline', type: 'duration', default: '10s', min: '500ms', max: '5m', help: 'Kubernetes mode: the leader gives up when it could not renew for this long (< lease duration)' },
  { name: 'leader-elect-retry-period', type: 'duration', default: '2s', min: '100ms', max: '1m', help: 'Kubernetes mode: how often to try to acquire or renew (renew deadline > 1.2 × this)' },
  { name: 'identity', type: 'string', help: 'leader identity (default hostname + random id)' },
  ...BUDGET_FLAGS,
  { name: 'concurrency', type: 'int', default: 16, min: 1, max: 200, help: 'cloud operations in flight at once (the provider still rate-limits)' },
  { name: 'metrics-ip', type: 'string', default: '127.0.0.1', check: ipAddress, help: 'address for /metrics, /healthz, /readyz' },
  { name: 'metrics-port', type: 'int', default: 0, min: 0, max: 65535, help: 'port for /metrics, /healthz, /readyz (0 = off)' },
  { name: 'log-level', type: 'string', default: 'info', choices: ['debug', 'info', 'warn', 'error'], help: 'log level' },
]);

export const CONTROLLER_SUMMARY = 'Leader-elected per cloud network: writes the leases of its route domain into every managed cloud route table and publishes their route status.';

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
  const source = values['kube-subnet-mgr'] ? await kubeControllerSource(values, log, signal) : etcdControllerSource(values, log, health, signal);
  try {
    const built: { metrics?: ControllerMetrics } = {};
    const port = values['metrics-port'];
    if (port > 0) {
      await startHttpServer({
        host: values['metrics-ip'], port, signal,
        routes: healthRoutes(health, () => (leading ? 'leading' : 'standby'), () => built.metrics),
      });
    }
    const config = await source.config();
    const provider = await buildProvider(values, config, log);
    const metrics = createControllerMetrics(() => provider.calls());
    built.metrics = metrics;
    const identity = values.identity ?? defaultIdentity(hostname());
    const routeDomain = await routeDomainOf(provider, signal);
    const election = electionScope(provider.provider, routeDomain);
    const domain = source.forDomain({ routeDomain, election, identity, config });
    const controller = new Controller({
      leases: domain.leases, config, provider, routeDomain, status: domain.status, log, metrics, health,
      ledger: domain.ledger,
      passTimeoutMs: values['pass-timeout'],
      budget: { percent: values['deletion-budget-percent'], min: values['deletion-budget-min'], force: values['force-deletions'] },
      resyncMs: values['resync-period'],
      concurrency: values.concurrency,
    });
    log.info({ identity, provider: provider.provider, routeDomain, election: domain.electionName }, 'campaigning for leadership of this route domain');
    const leadership = await domain.elector.campaign(signal);
    leading = true;
    metrics.leader.set(1);
    const acting = AbortSignal.any([signal, leadership.lost]);
    // Lease events only wake the loop; every pass lists the leases itself.
    const { revision } = await domain.leases.list(acting);
    const watching = domain.leases.watch({ fromRevision: revision + 1, signal: acting, onEvents: () => controller.wake() });
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
    source.close();
  }
}

type ControllerOptions = FlagOptions<typeof CONTROLLER_FLAGS>;

/** Where the controller's leases, status, election and ledger live: etcd, or the Kubernetes API. */
interface ControllerSource {
  config(): Promise<NetworkConfig>;
  /** What depends on the config and the route domain the provider routes (known once the provider is built). */
  forDomain(o: { routeDomain: string; election: ElectionScope; identity: string; config: NetworkConfig }): {
    readonly leases: LeaseReader;
    readonly status: RouteStatusStore;
    readonly elector: LeaderElector;
    readonly electionName: string;
    readonly ledger?: OwnershipLedger | undefined;
  };
  close(): void;
}

function etcdControllerSource(values: ControllerOptions, log: Logger, health: Health, signal: AbortSignal): ControllerSource {
  const { client, store } = etcdStoreFromFlags(values);
  return {
    config: () => waitForEtcd(
      { endpoints: values['etcd-endpoints'], timeoutMs: values['etcd-start-timeout'], log, health, signal },
      () => loadNetworkConfig(values['net-config-path'], () => store.getNetworkConfig(signal)),
    ),
    forDomain: ({ routeDomain, election, identity }) => {
      const elector = new EtcdElector({
        client, prefix: store.prefix, identity, ttlSeconds: values['leader-elect-ttl'] / 1000, scope: election.key,
        onEvent: (msg, fields) => log.info(fields ?? {}, msg),
      });
      return {
        leases: store, status: store.routeStatusFor(routeDomain), elector, electionName: elector.key,
        ledger: domainLedger({ client, prefix: store.prefix, cluster: values['cluster-name'], routeDomain }),
      };
    },
    close: () => client.close(),
  };
}

/**
 * Kubernetes mode: leases from Nodes, route status as node annotations (with a Warning
 * Event on the node when its route fails), election on a coordination.k8s.io Lease.
 * No ownership ledger: routes are tartan's by the cloud's mark or as exactly a lease's route.
 */
async function kubeControllerSource(values: ControllerOptions, log: Logger, signal: AbortSignal): Promise<ControllerSource> {
  // Loaded here only: the Lease API is client-node's, which an etcd-mode controller does not load.
  const { KubeLeaseElector, kubeLeaseApi, validateElectionTimings } = await import('../lease/kube-election.ts');
  const timings = {
    leaseDurationMs: values['leader-elect-lease-duration'],
    renewDeadlineMs: values['leader-elect-renew-deadline'],
    retryPeriodMs: values['leader-elect-retry-period'],
  };
  validateElectionTimings(timings);
  const setup = await (await import('./kube-setup.ts')).kubeFromFlags(values);
  const { api, keys } = setup;
  // The Lease API is client-node's (the controller loads the cloud SDKs anyway).
  const kc = await setup.kubeConfig();
  return {
    config: () => loadNetworkConfig(values['net-config-path'] ?? KUBE_NET_CONFIG_PATH, () => Promise.reject(new Error('unreachable'))),
    forDomain: ({ routeDomain, election, identity, config }) => {
      const store = new KubeLeaseStore({
        api, keys, lifetime: signal, ipv6: config.ipv6 !== undefined, routeDomain, heartbeatNode: process.env['NODE_NAME'] || undefined,
        log: (level, msg, fields) => log[level](fields, msg),
      });
      const namespace = values['leader-elect-resource-namespace'] ?? (process.env['POD_NAMESPACE'] || 'kube-system');
      const name = values['leader-elect-resource-name'] ?? election.kubeLeaseName;
      const elector = new KubeLeaseElector({
        api: kubeLeaseApi(kc), namespace, name, identity, ...timings,
        onEvent: (msg, fields) => log.info(fields ?? {}, msg),
      });
      return { leases: store, status: new NodeEventingStatus(store, log), elector, electionName: `leases/${namespace}/${name}` };
    },
    close: () => api.close(),
  };
}

/** The cloud network the provider's managed tables route (AWS without --vpc-id: the VPC of its tables). */
export async function routeDomainOf(provider: RouteTableReader, signal: AbortSignal): Promise<string> {
  if (!canTellRouteDomain(provider)) throw new InvalidInputError('--provider', provider.provider, 'cannot tell which cloud network (route domain) it routes');
  return await provider.routeDomain(signal);
}

/** The ownership ledger of this cluster's controller for one route domain (src/controller/ledger-scope.ts). */
export function domainLedger(o: { client: Etcd3; prefix: string; cluster: string; routeDomain: string }): DomainLedger {
  return new DomainLedger({
    scoped: new EtcdLedger({ client: o.client, prefix: o.prefix, cluster: scopedLedgerName(o.cluster, o.routeDomain) }),
    legacy: new EtcdLedger({ client: o.client, prefix: o.prefix, cluster: o.cluster }),
  });
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
