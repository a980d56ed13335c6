// `tartan agent`: this host's lease, subnet.env and kernel data plane.
import { Agent } from '../agent/agent.ts';
import { backendFactory } from '../agent/backends/index.ts';
import { type FlagSpec, type FlagValues, bool, list, num, parseFlags, renderHelp, str } from '../config/flags.ts';
import type { NetworkConfig } from '../config/network.ts';
import { type RouteDomain, detectRouteDomain, parseRouteDomain } from '../agent/route-domain.ts';
import { cloudOfBackend, kernelBackendConfig } from '../config/backend.ts';
import type { Logger } from '../observe/log.ts';
import { applyMasquerade, removeMasquerade } from '../kernel/index.ts';
import { deviceToReach, observeInterfaces, reversePathFilter } from '../kernel/interfaces.ts';
import type { Lease } from '../lease/index.ts';
import { chooseExternalInterface } from '../net/iface.ts';
import { startHttpServer, textStatus } from '../observe/http.ts';
import { createLogger } from '../observe/log.ts';
import { ETCD_FLAGS, etcdStoreFromFlags } from './etcd-flags.ts';
import { loadNetworkConfig } from './network-config.ts';

export const AGENT_FLAGS: readonly FlagSpec[] = [
  ...ETCD_FLAGS,
  { name: 'iface', type: 'list', default: [], help: 'external interface (name or IP); repeat or comma-separate to try several in order' },
  { name: 'iface-regex', type: 'list', default: [], help: 'regex matched against interface IPs, then names; repeatable' },
  { name: 'iface-can-reach', type: 'string', help: 'use the interface the kernel would use to reach this IP' },
  { name: 'public-ip', type: 'string', help: 'IPv4 address peers use to reach this host (default: the interface address)' },
  { name: 'public-ipv6', type: 'string', help: 'IPv6 address peers use to reach this host' },
  { name: 'subnet-file', type: 'string', default: '/run/flannel/subnet.env', help: 'where to write the subnet environment file' },
  { name: 'subnet-lease-renew-margin', type: 'int', default: 60, min: 1, max: 1439, help: 'renew the lease this many minutes before it expires' },
  { name: 'subnet-lease-ttl', type: 'duration', default: '24h', min: 120_000, help: 'etcd lease TTL of a subnet (flannel: fixed 24h; change only for tests)' },
  { name: 'ip-masq', type: 'boolean', default: false, help: 'masquerade traffic leaving the cluster Network (nftables table inet tartan)' },
  { name: 'net-config-path', type: 'string', help: 'read the network config from this file instead of <etcd-prefix>/config' },
  { name: 'healthz-ip', type: 'string', default: '0.0.0.0', help: 'address for /healthz and /readyz' },
  { name: 'healthz-port', type: 'int', default: 0, min: 0, max: 65535, help: 'port for /healthz and /readyz (0 = off)' },
  { name: 'resync-period', type: 'duration', default: '10s', min: 1000, help: 'how often the kernel state is read back and repaired' },
  { name: 'route-domain', type: 'string', help: 'this host\'s cloud network: none, aws:<vpc-id>, gce:projects/<p>/global/networks/<n>, ali:<vpc-id> (default: asked from the instance metadata service when Backend.Type is aws-vpc, gce or ali-vpc)' },
  { name: 'metadata-endpoint', type: 'string', help: 'base URL of the instance metadata service (default: the cloud\'s own)' },
  { name: 'metadata-timeout', type: 'duration', default: '2s', min: 100, help: 'how long to wait for the instance metadata service' },
  { name: 'log-level', type: 'string', default: 'info', choices: ['debug', 'info', 'warn', 'error'], help: 'log level' },
  { name: 'help', type: 'boolean', help: 'show this help' },
];

export const AGENT_SUMMARY = "Acquires and renews this host's subnet lease, writes subnet.env and programs the kernel for every peer.";

export async function runAgent(argv: readonly string[], signal: AbortSignal): Promise<number> {
  const { values } = parseFlags(AGENT_FLAGS, argv, process.env);
  if (bool(values, 'help')) {
    process.stdout.write(renderHelp('agent', AGENT_SUMMARY, AGENT_FLAGS));
    return 0;
  }
  const log = createLogger({ level: str(values, 'log-level'), name: 'agent' });
  const { client, store } = etcdStoreFromFlags(values, { leaseTtlSeconds: num(values, 'subnet-lease-ttl') / 1000 });
  try {
    const config = await loadNetworkConfig(str(values, 'net-config-path'), () => store.getNetworkConfig(signal));
    const mode = await hybridMode(config, values, log);
    const factory = backendFactory(mode.kernelConfig.backend.type);
    const canReach = str(values, 'iface-can-reach');
    const iface = chooseExternalInterface(await observeInterfaces(), {
      ifaces: list(values, 'iface'),
      ifaceRegex: list(values, 'iface-regex'),
      canReachDev: canReach ? await deviceToReach(canReach) : undefined,
      publicIp: str(values, 'public-ip'),
      publicIpv6: str(values, 'public-ipv6'),
      wantIpv4: config.ipv4 !== undefined,
      wantIpv6: config.ipv6 !== undefined,
    });
    if (mode.routeDomain && mode.routeDomain.id !== 'none' && (await reversePathFilter(iface.name)) === 1) {
      // Hybrid paths can be asymmetric (A→B through the VPC, B→A over vxlan while B's route overflows).
      log.warn({ iface: iface.name }, 'strict rp_filter (1) on the external interface drops asymmetric hybrid traffic; set net.ipv4.conf.all.rp_filter and the interface to 2 (loose)');
    }
    const backend = factory({ network: mode.kernelConfig, iface, log });
    const agent = new Agent({
      store, config, iface, backend, log,
      subnetFile: str(values, 'subnet-file')!,
      ipMasq: bool(values, 'ip-masq'),
      applyIpMasq: (enable, lease, sig) => applyIpMasq(config, enable, lease, sig),
      renewMarginMs: num(values, 'subnet-lease-renew-margin') * 60_000,
      resyncMs: num(values, 'resync-period'),
      hybrid: mode.routeDomain ? { routeDomain: mode.routeDomain, status: store } : undefined,
    });
    const port = num(values, 'healthz-port');
    if (port > 0) {
      await startHttpServer({
        host: str(values, 'healthz-ip')!, port, signal,
        routes: {
          '/healthz': () => textStatus(agent.state.lastError === undefined, agent.state.lastError ?? 'running'),
          '/readyz': () => textStatus(agent.state.ready, agent.state.ready ? 'subnet.env written' : 'acquiring lease'),
        },
      });
    }
    await agent.run(signal);
    log.info('stopped; lease and kernel state left in place');
    return 0;
  } finally {
    client.close();
  }
}

async function applyIpMasq(config: NetworkConfig, enable: boolean, lease: Lease, signal: AbortSignal): Promise<void> {
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
async function hybridMode(config: NetworkConfig, values: FlagValues, log: Logger): Promise<{ kernelConfig: NetworkConfig; routeDomain?: RouteDomain }> {
  const flag = str(values, 'route-domain');
  const cloud = cloudOfBackend(config.backend.type);
  const kernelConfig = kernelBackendConfig(config);
  if (flag) return { kernelConfig, routeDomain: parseRouteDomain(flag) };
  if (!cloud) return { kernelConfig };
  const { domain, error } = await detectRouteDomain({ cloud, endpoint: str(values, 'metadata-endpoint'), timeoutMs: num(values, 'metadata-timeout') });
  if (error) log.warn({ cloud, err: error }, 'no instance metadata: this host is outside the cloud network (route domain none); every peer over the fallback');
  else log.info({ routeDomain: domain.id, instanceId: domain.instanceId }, 'route domain from instance metadata');
  return { kernelConfig, routeDomain: domain };
}
