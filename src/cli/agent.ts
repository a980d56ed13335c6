// `tartan agent`: this host's lease, subnet.env and kernel data plane.
import { Agent } from '../agent/agent.ts';
import { backendFactory } from '../agent/backends/index.ts';
import { ipAddress, regularFilePath } from '../config/checks.ts';
import { parseCommandLine } from '../config/command-line.ts';
import { type FlagOptions, flagTable } from '../config/flags.ts';
import { DEFAULT_RENEW_MARGIN_MINUTES, renewMarginMs } from '../config/lease-timing.ts';
import type { NetworkConfig } from '../config/network.ts';
import { type RouteDomain, detectRouteDomain, parseRouteDomain } from '../agent/route-domain.ts';
import { cloudOfBackend, kernelBackendConfig } from '../config/backend.ts';
import type { Logger } from '../observe/log.ts';
import { applyMasquerade, connectedNetworks, removeMasquerade } from '../kernel/index.ts';
import { setForwardRules } from '../kernel/forward.ts';
import { deviceToReach, observeInterfaces, reversePathFilter } from '../kernel/interfaces.ts';
import type { Lease } from '../lease/index.ts';
import { chooseExternalInterface } from '../net/iface.ts';
import { Health } from '../observe/health.ts';
import { type Handler, startHttpServer } from '../observe/http.ts';
import { createLogger } from '../observe/log.ts';
import { ETCD_FLAGS, etcdStoreFromFlags } from './etcd-flags.ts';
import { ETCD_START_FLAGS, waitForEtcd } from './etcd-start.ts';
import { takeHostLock } from '../agent/host-lock.ts';
import { leaseWrittenAgoMs } from '../lease/written-ago.ts';
import { loadNetworkConfig } from './network-config.ts';
import { assertNetworkClearOfUnderlay } from '../lease/validate.ts';
import { type AgentMetrics, createAgentMetrics } from '../observe/metrics.ts';
import { KUBE_FLAGS, KUBE_NET_CONFIG_PATH } from './kube-flags.ts';
import { KubeLeaseStore } from '../lease/kube.ts';
import { storedPublicIps } from '../lease/kube-node.ts';
import type { LeaseHolder, LeaseReader, RouteStatusReader } from '../lease/store.ts';

export const AGENT_FLAGS = flagTable([
  ...ETCD_FLAGS,
  ...ETCD_START_FLAGS,
  ...KUBE_FLAGS,
  { name: 'set-node-network-unavailable', type: 'boolean', default: true, help: 'Kubernetes mode: set the node condition NetworkUnavailable=False once subnet.env is written and every peer is programmed (--no-set-node-network-unavailable to leave it to someone else)' },
  { name: 'iface', type: 'list', default: [], help: 'external interface (name or IP); repeat or comma-separate to try several in order' },
  { name: 'iface-regex', type: 'list', default: [], help: 'regex matched against interface IPs, then names; repeatable' },
  { name: 'iface-can-reach', type: 'string', help: 'use the interface the kernel would use to reach this IP' },
  { name: 'public-ip', type: 'string', help: 'IPv4 address peers use to reach this host (default: the interface address)' },
  { name: 'public-ipv6', type: 'string', help: 'IPv6 address peers use to reach this host' },
  { name: 'subnet-file', type: 'string', default: '/run/flannel/subnet.env', check: regularFilePath, help: 'where to write the subnet environment file (not a directory, not under /proc or /sys)' },
  { name: 'subnet-lease-renew-margin', type: 'int', default: DEFAULT_RENEW_MARGIN_MINUTES, min: 1, max: 1439, help: 'renew the lease this many minutes before it expires; at most half of --subnet-lease-ttl (left at its default, it shrinks to half a shorter TTL)' },
  { name: 'subnet-lease-ttl', type: 'duration', default: '24h', min: '2m', max: '168h', help: 'etcd lease TTL of a subnet (flannel: fixed 24h; change only for tests)' },
  { name: 'ip-masq', type: 'boolean', default: false, help: 'masquerade traffic leaving the cluster Network (nftables table inet tartan)' },
  { name: 'iptables-forward-rules', type: 'boolean', default: true, help: 'accept forwarded traffic from and to the cluster Network(s) in the iptables filter FORWARD chain (chain TARTAN-FWD), as flannel does: needed where Docker sets the FORWARD policy to DROP; false removes the rules' },
  { name: 'net-config-path', type: 'string', help: `read the network config from this file instead of <etcd-prefix>/config (Kubernetes mode: default ${KUBE_NET_CONFIG_PATH})` },
  { name: 'healthz-ip', type: 'string', default: '0.0.0.0', check: ipAddress, help: 'address for /healthz and /readyz' },
  { name: 'healthz-port', type: 'int', default: 0, min: 0, max: 65535, help: 'port for /healthz and /readyz (0 = off)' },
  { name: 'resync-period', type: 'duration', default: '10s', min: '1s', max: '1h', help: 'how often the kernel state is read back and repaired' },
  { name: 'route-domain', type: 'string', help: 'this host\'s cloud network: none, aws:<vpc-id>, gce:projects/<p>/global/networks/<n>, ali:<vpc-id> (default: asked from the instance metadata service when Backend.Type is aws-vpc, gce or ali-vpc)' },
  { name: 'metadata-endpoint', type: 'string', help: 'base URL of the instance metadata service (default: the cloud\'s own)' },
  { name: 'metadata-timeout', type: 'duration', default: '2s', min: '100ms', max: '1m', help: 'how long to wait for the instance metadata service' },
  { name: 'log-level', type: 'string', default: 'info', choices: ['debug', 'info', 'warn', 'error'], help: 'log level' },
]);

export const AGENT_SUMMARY = "Acquires and renews this host's subnet lease, writes subnet.env and programs the kernel for every peer.";

export const AGENT_COMMAND = { name: 'agent', summary: AGENT_SUMMARY, flags: AGENT_FLAGS };

type AgentOptions = FlagOptions<typeof AGENT_FLAGS>;

/** Exit codes: 0 stopped by signal; 1 fatal error; 2 bad flag or config, or another agent holds this host; 3 this host's lease was revoked. */
export async function runAgent(argv: readonly string[], root: AbortSignal): Promise<number> {
  const line = parseCommandLine(AGENT_COMMAND, argv, process.env);
  if (line.help !== undefined) {
    process.stdout.write(line.help);
    return 0;
  }
  const values = line.options;
  // Cross-flag rule, before any side effect.
  const renewMargin = renewMarginMs({
    ttlMs: values['subnet-lease-ttl'], marginMinutes: values['subnet-lease-renew-margin'], marginGiven: line.given.has('subnet-lease-renew-margin'),
  });
  const lock = takeHostLock(values['subnet-file']);
  const log = createLogger({ level: values['log-level'], name: 'agent' });
  // The one shutdown path: whatever ends this function aborts `scope` (HTTP server, watches, loops).
  const scope = new AbortController();
  const signal = AbortSignal.any([root, scope.signal]);
  const health = new Health();
  health.setReason('start', 'acquiring lease'); // the agent clears it once subnet.env is written
  const metrics = createAgentMetrics();
  try {
    const port = values['healthz-port'];
    if (port > 0) await startHttpServer({ host: values['healthz-ip'], port, signal, routes: healthRoutes(health, metrics) });
    const source = values['kube-subnet-mgr'] ? await kubeSource(values, log, health, signal) : await etcdSource(values, log, health, signal);
    try {
      const { config, mode } = source;
      const factory = backendFactory(mode.kernelConfig.backend.type);
      const canReach = values['iface-can-reach'];
      const iface = chooseExternalInterface(await observeInterfaces(), {
        ifaces: values.iface,
        ifaceRegex: values['iface-regex'],
        canReachDev: canReach ? await deviceToReach(canReach) : undefined,
        publicIp: source.publicIps?.publicIp ?? values['public-ip'],
        publicIpv6: source.publicIps?.publicIpv6 ?? values['public-ipv6'],
        wantIpv4: config.ipv4 !== undefined,
        wantIpv6: config.ipv6 !== undefined,
      });
      if (mode.routeDomain && mode.routeDomain.id !== 'none' && (await reversePathFilter(iface.name)) === 1) {
        // Hybrid paths can be asymmetric (A→B through the VPC, B→A over vxlan while B's route overflows).
        log.warn({ iface: iface.name }, 'strict rp_filter (1) on the external interface drops asymmetric hybrid traffic; set net.ipv4.conf.all.rp_filter and the interface to 2 (loose)');
      }
      const underlay = await connectedNetworks(iface.name);
      assertNetworkClearOfUnderlay(config, underlay, iface.name);
      const backend = factory({ network: mode.kernelConfig, iface, log, registry: metrics.registry });
      const agent = new Agent({
        store: source.store, config, iface, backend, log, underlay, metrics, health,
        leaseWrittenAgoMs: source.leaseWrittenAgoMs,
        afterFirstSync: source.afterFirstSync,
        subnetFile: values['subnet-file'],
        ipMasq: values['ip-masq'],
        applyIpMasq: (enable, lease, sig) => applyHostRules({ config, values, log }, enable, lease, sig),
        renewMarginMs: renewMargin,
        resyncMs: values['resync-period'],
        hybrid: mode.routeDomain ? { routeDomain: mode.routeDomain, status: source.status } : undefined,
      });
      await agent.run(signal);
      log.info('stopped; lease and kernel state left in place');
      return 0;
    } finally {
      source.close();
    }
  } finally {
    scope.abort(new Error('agent stopped'));
    lock.release();
  }
}

/** Where the agent's leases, network config and route status come from: etcd, or Kubernetes Nodes. */
interface LeaseSource {
  readonly store: LeaseReader & LeaseHolder;
  /** The controller's route status for this host's route domain (hybrid mode). */
  readonly status: RouteStatusReader;
  readonly config: NetworkConfig;
  readonly mode: { kernelConfig: NetworkConfig; routeDomain?: RouteDomain };
  readonly leaseWrittenAgoMs?: ((key: string, signal: AbortSignal) => Promise<number | undefined>) | undefined;
  readonly afterFirstSync?: ((signal: AbortSignal) => Promise<void>) | undefined;
  /** Addresses the node's annotations ask for (node-public-ip(-v6)): they win over the flags. */
  readonly publicIps?: { publicIp?: string; publicIpv6?: string } | undefined;
  close(): void;
}

async function etcdSource(values: AgentOptions, log: Logger, health: Health, signal: AbortSignal): Promise<LeaseSource> {
  const { client, store } = etcdStoreFromFlags(values, { leaseTtlSeconds: values['subnet-lease-ttl'] / 1000 });
  try {
    const config = await waitForEtcd(
      { endpoints: values['etcd-endpoints'], timeoutMs: values['etcd-start-timeout'], log, health, signal },
      () => loadNetworkConfig(values['net-config-path'], () => store.getNetworkConfig(signal)),
    );
    const mode = await hybridMode(config, values, log);
    return {
      // Hybrid: the route status of this host's own route domain (<prefix>/routes/<domain-slug>/).
      store, status: mode.routeDomain ? store.routeStatusFor(mode.routeDomain.id) : store, config, mode,
      leaseWrittenAgoMs: (key) => leaseWrittenAgoMs(client, `${store.subnetsPrefix}${key}`),
      close: () => client.close(),
    };
  } catch (err) {
    client.close();
    throw err;
  }
}

/** Kubernetes mode: the node's podCIDR is the lease, the network config is a file (the ConfigMap). */
async function kubeSource(values: AgentOptions, log: Logger, health: Health, signal: AbortSignal): Promise<LeaseSource> {
  const config = await loadNetworkConfig(values['net-config-path'] ?? KUBE_NET_CONFIG_PATH, () => Promise.reject(new Error('unreachable')));
  const mode = await hybridMode(config, values, log);
  const { kubeFromFlags, resolveNodeName } = await import('./kube-setup.ts');
  const { api, keys } = await kubeFromFlags(values);
  try {
    const nodeName = await resolveNodeName(api, process.env, signal);
    const store = new KubeLeaseStore({
      api, keys, lifetime: signal, ipv6: config.ipv6 !== undefined, nodeName, routeDomain: mode.routeDomain?.id,
      log: (level, msg, fields) => log[level](fields, msg),
      onWaiting: (why) => health.setReason('start', why ?? 'acquiring lease'),
    });
    await store.list(signal);
    const own = store.cache.get(nodeName);
    log.info({ node: nodeName, server: api.server }, 'Kubernetes mode: leases from Nodes');
    return {
      store, status: store, config, mode,
      publicIps: own ? storedPublicIps(own, keys) : undefined,
      afterFirstSync: values['set-node-network-unavailable'] ? (sig) => store.markNetworkAvailable(sig) : undefined,
      close: () => api.close(),
    };
  } catch (err) {
    api.close();
    throw err;
  }
}

function healthRoutes(health: Health, metrics: AgentMetrics): Record<string, Handler> {
  return {
    '/healthz': () => health.liveness('running'),
    '/readyz': () => health.readiness('subnet.env written'),
    '/metrics': async () => ({ status: 200, body: await metrics.registry.metrics(), contentType: metrics.registry.contentType }),
  };
}

/** This host's firewall rules, once the lease is known: iptables forward rules (kept by their own resync), then ip-masq. */
async function applyHostRules(o: { config: NetworkConfig; values: AgentOptions; log: Logger }, enable: boolean, lease: Lease, signal: AbortSignal): Promise<void> {
  const { config } = o;
  await setForwardRules({
    enabled: o.values['iptables-forward-rules'], spec: { ipv4: config.ipv4?.network, ipv6: config.ipv6?.network },
    resyncMs: o.values['resync-period'], log: o.log, signal,
  });
  if (!enable) {
    await removeMasquerade({ signal });
    return;
  }
  await applyMasquerade({
    ipv4: config.ipv4 ? { network: config.ipv4.network, subnet: lease.subnet } : undefined,
    ipv6: config.ipv6 && lease.ipv6Subnet ? { network: config.ipv6.network, subnet: lease.ipv6Subnet } : undefined,
  }, { signal });
}

/**
 * Hybrid mode when Backend.Type is aws-vpc / gce / ali-vpc (see kernelBackendConfig);
 * `--route-domain` turns it on for plain vxlan / host-gw configs too (clusters shared
 * with flannel hosts).
 */
async function hybridMode(config: NetworkConfig, values: AgentOptions, log: Logger): Promise<{ kernelConfig: NetworkConfig; routeDomain?: RouteDomain }> {
  const flag = values['route-domain'];
  const cloud = cloudOfBackend(config.backend.type);
  const kernelConfig = kernelBackendConfig(config);
  if (flag) return { kernelConfig, routeDomain: parseRouteDomain(flag) };
  if (!cloud) return { kernelConfig };
  const { domain, error } = await detectRouteDomain({ cloud, endpoint: values['metadata-endpoint'], timeoutMs: values['metadata-timeout'] });
  if (error) log.warn({ cloud, err: error }, 'no instance metadata: this host is outside the cloud network (route domain none); every peer over the fallback');
  else log.info({ routeDomain: domain.id, instanceId: domain.instanceId }, 'route domain from instance metadata');
  return { kernelConfig, routeDomain: domain };
}
