// `tartan audit`: leases vs cloud route tables vs the kernel, read-only, for
// operators, cron and CI after a Terraform apply. Exit 0 clean, 1 drift found,
// 2 could not audit (the reason on stderr; with --output json also on stdout).
import { type Deadline, CouldNotAuditError, audit, deadline, errorReport, exitCodeFor, renderJson, renderTable } from '../audit/index.ts';
import { parseCommandLine } from '../config/command-line.ts';
import { type FlagOptions, flagTable, replaceFlag } from '../config/flags.ts';
import type { NetworkConfig } from '../config/network.ts';
import { InvalidInputError, errorMessage } from '../errors.ts';
import { type Logger, createLogger } from '../observe/log.ts';
import { redactText } from '../observe/redact.ts';
import type { RouteTableReader } from '../../providers/route-table.ts';
import { BUDGET_FLAGS, domainLedger, routeDomainOf } from './controller.ts';
import { ETCD_FLAGS, etcdStoreFromFlags } from './etcd-flags.ts';
import { loadNetworkConfig } from './network-config.ts';
import { PROVIDER_FLAGS, buildProvider, providerName } from './provider-flags.ts';
import { KUBE_FLAGS, KUBE_NET_CONFIG_PATH } from './kube-flags.ts';
import { KubeLeaseStore } from '../lease/kube.ts';
import type { LeaseReader, RouteStatusStore } from '../lease/store.ts';
import type { OwnershipLedger } from '../lease/ledger.ts';

export const AUDIT_FLAGS = flagTable([
  ...ETCD_FLAGS,
  ...KUBE_FLAGS,
  ...replaceFlag(PROVIDER_FLAGS, {
    name: 'provider', type: 'string', choices: ['aws', 'gce', 'alicloud', 'none'],
    help: 'cloud provider, or none to audit leases, route status and the kernel only (default: from the network config Backend.Type aws-vpc / gce / ali-vpc; none for other types)',
  }),
  { name: 'net-config-path', type: 'string', help: `read the network config from this file instead of <etcd-prefix>/config (Kubernetes mode: default ${KUBE_NET_CONFIG_PATH})` },
  { name: 'output', type: 'string', default: 'table', choices: ['table', 'json'], help: 'table for terminals, json for machines (schemaVersion 1)' },
  { name: 'plan', type: 'boolean', default: false, help: 'also print the actions the controller would take to repair the drift (nothing is changed)' },
  { name: 'kernel', type: 'boolean', default: false, help: "also compare this host's kernel (routes, neigh, fdb) with what its agent should have" },
  { name: 'public-ip', type: 'string', help: "this host's PublicIP for --kernel (default: the lease whose PublicIP is a local address)" },
  { name: 'timeout', type: 'duration', default: '10s', min: '100ms', max: '1h', help: 'give up (exit 2) when the inputs have not been read by then' },
  { name: 'limit', type: 'int', default: 50, min: 0, help: 'rows per section in the table output (0 = all)' },
  // The controller's own budget flags, so `--plan` shows exactly what the controller would do.
  ...BUDGET_FLAGS,
  { name: 'log-level', type: 'string', default: 'warn', choices: ['debug', 'info', 'warn', 'error'], help: 'log level (logs go to stderr)' },
  // Not in --help: for tests and the lab, which run hosts in network namespaces.
  { name: 'netns', type: 'string', hidden: true, help: 'look inside this network namespace for --kernel' },
]);

export const AUDIT_SUMMARY = 'Read-only drift report: leases vs the cloud route tables vs the kernel. Exit 0 clean, 1 drift found, 2 could not audit.';

export const AUDIT_COMMAND = { name: 'audit', summary: AUDIT_SUMMARY, flags: AUDIT_FLAGS };

type AuditOptions = FlagOptions<typeof AUDIT_FLAGS>;

export async function runAudit(argv: readonly string[], signal: AbortSignal): Promise<number> {
  let values: AuditOptions;
  try {
    const line = parseCommandLine(AUDIT_COMMAND, argv, process.env);
    if (line.help !== undefined) {
      process.stdout.write(line.help);
      return 0;
    }
    values = line.options;
  } catch (err) {
    process.stderr.write(`tartan audit: ${redactText(errorMessage(err))}\n`);
    return 2;
  }
  const json = values.output === 'json';
  let cloud: (RouteTableReader & { close?: () => unknown }) | undefined;
  let closeEtcd: (() => void) | undefined;
  // Everything below ends in 0, 1 or 2: an unexpected error is "could not audit", never "drift".
  try {
    const limits = deadline(values.timeout, signal);
    const log = createLogger({ level: values['log-level'], name: 'audit' });
    const source = values['kube-subnet-mgr'] ? await kubeAuditSource(values, limits) : etcdAuditSource(values, limits);
    closeEtcd = () => source.close();
    // Always read: every lease is validated against it.
    const config = await source.config();
    cloud = await chooseCloud(values, config, log);
    const c = cloud;
    // The cloud's route domain: its leases, its controller's statuses and ledger (as that controller keeps them).
    const routeDomain = c ? await limits.read('cloud', `asking the ${c.provider} API which network it routes`, (sig) => routeDomainOf(c, sig)) : undefined;
    const report = await audit({
      leases: source.leases(routeDomain),
      config,
      ledger: routeDomain ? source.ledger(routeDomain) : undefined,
      store: source.describe,
      cloud,
      routeDomain,
      routeStatusOf: (domain) => source.routeStatusOf(domain),
      deadline: limits,
      plan: values.plan ? { budget: { percent: values['deletion-budget-percent'], min: values['deletion-budget-min'], force: values['force-deletions'] } } : undefined,
      kernel: values.kernel ? { netns: values.netns, publicIp: values['public-ip'] } : undefined,
    });
    const color = process.stdout.isTTY === true && process.env.NO_COLOR === undefined;
    process.stdout.write(json ? renderJson(report) : renderTable(report, { color, limit: values.limit }));
    return exitCodeFor(report);
  } catch (err) {
    const source = err instanceof CouldNotAuditError ? err.source : err instanceof InvalidInputError ? 'config' : 'audit';
    const message = redactText(errorMessage(err));
    process.stderr.write(`tartan audit: could not audit: ${message}\n`);
    if (json) process.stdout.write(renderJson(errorReport({ source, message }, new Date().toISOString())));
    return 2;
  } finally {
    closeEtcd?.();
    await Promise.resolve(cloud?.close?.()).catch(() => undefined);
  }
}

/** What the audit reads leases, statuses and the ledger from: etcd, or the Kubernetes API (no ledger there). */
interface AuditSource {
  readonly describe: { readonly store: string; readonly prefix: string };
  config(): Promise<NetworkConfig>;
  leases(routeDomain: string | undefined): LeaseReader & Pick<RouteStatusStore, 'listRouteStatus'>;
  routeStatusOf(domain: string): Pick<RouteStatusStore, 'listRouteStatus'>;
  ledger(routeDomain: string): OwnershipLedger | undefined;
  close(): void;
}

function etcdAuditSource(values: AuditOptions, limits: Deadline): AuditSource {
  const { client, store } = etcdStoreFromFlags(values);
  const storeText = redactText(`etcd ${values['etcd-endpoints'].join(',')}`);
  return {
    describe: { store: storeText, prefix: store.prefix },
    config: () => readConfig(values, limits, storeText, () => store.getNetworkConfig(limits.signal)),
    leases: () => store,
    routeStatusOf: (domain) => store.routeStatusFor(domain),
    ledger: (routeDomain) => domainLedger({ client, prefix: store.prefix, cluster: values['cluster-name'], routeDomain }),
    close: () => client.close(),
  };
}

async function kubeAuditSource(values: AuditOptions, limits: Deadline): Promise<AuditSource> {
  const { api, keys } = await (await import('./kube-setup.ts')).kubeFromFlags(values);
  const lifetime = new AbortController();
  let store: KubeLeaseStore | undefined;
  let config: NetworkConfig | undefined;
  const storeFor = (routeDomain: string | undefined): KubeLeaseStore =>
    (store ??= new KubeLeaseStore({ api, keys, lifetime: lifetime.signal, ipv6: config?.ipv6 !== undefined, routeDomain }));
  return {
    describe: { store: `Kubernetes API ${api.server}`, prefix: '' },
    config: async () => (config = await limits.read('config', 'reading --net-config-path', () => loadNetworkConfig(values['net-config-path'] ?? KUBE_NET_CONFIG_PATH, () => Promise.reject(new Error('unreachable'))))),
    leases: (routeDomain) => storeFor(routeDomain),
    routeStatusOf: (domain) => storeFor(undefined).routeStatusFor(domain),
    ledger: () => undefined,
    close: () => {
      lifetime.abort();
      api.close();
    },
  };
}

/** The network config names the provider and the cluster Network (cloud) and the backend (kernel). */
async function readConfig(values: AuditOptions, limits: Deadline, storeText: string, fromStore: () => Promise<NetworkConfig>): Promise<NetworkConfig> {
  const path = values['net-config-path'];
  return await limits.read(path ? 'config' : 'etcd', path ? 'reading --net-config-path' : `reading the network config from ${storeText}`, () => loadNetworkConfig(path, fromStore));
}

/** The provider from the flags, or none: `--provider none`, or no flag and a Backend.Type that names no cloud. */
async function chooseCloud(values: AuditOptions, config: NetworkConfig, log: Logger): Promise<(RouteTableReader & { close?: () => unknown }) | undefined> {
  const given = values.provider;
  if (given === 'none') return undefined;
  if (given === undefined) {
    try {
      providerName(values, config);
    } catch (err) {
      if (err instanceof InvalidInputError) return undefined; // e.g. a vxlan cluster with no cloud routes: nothing to audit there
      throw err;
    }
  }
  // The writer is built by the one factory the controller uses, and handed on as a reader only.
  const provider: RouteTableReader & { close?: () => unknown } = await buildProvider(values, config, log);
  return provider;
}
