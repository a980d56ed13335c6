// The real daemons for tartan.yaml's RBAC test, each with its ServiceAccount's
// kubeconfig: `tartan agent --kube-subnet-mgr` inside a lab host's network namespace
// (POD_NAME + POD_NAMESPACE, as the DaemonSet sets them; no NODE_NAME), and
// `tartan controller --kube-subnet-mgr` (NODE_NAME, as the Deployment sets it) against
// the EC2 emulator. Their JSON log lines are searched for the request a 403 refused.
import type { ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectOutput, spawnTracked, stopChild } from '../support/process.ts';
import { waitFor } from '../support/wait.ts';
import { MAIN } from '../lab/agents.ts';
import { type AwsWorld, awsEnv, spawnController } from '../e2e/controller-kit.ts';
import { type ApiRequest, forbiddenText, NAMESPACE } from './rbac-requests.ts';

export interface Daemon {
  readonly child: ChildProcess;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /** Everything it printed so far. */
  output(): string;
  stop(): Promise<number | null>;
}

export interface AgentSpec {
  readonly ns: string;
  readonly kubeconfig: string;
  readonly netConfPath: string;
  readonly subnetFile: string;
  readonly pod: string;
  readonly healthzPort: number;
}

export function startAgent(o: AgentSpec): Daemon {
  const child = spawnTracked('ip', [
    'netns', 'exec', o.ns, process.execPath, MAIN, 'agent', '--kube-subnet-mgr', '--kubeconfig-file', o.kubeconfig,
    '--net-config-path', o.netConfPath, '--iface', 'eth0', '--subnet-file', o.subnetFile, '--healthz-port', String(o.healthzPort), '--resync-period', '2s',
  ], { env: { ...process.env, NODE_COMPILE_CACHE: join(tmpdir(), 'tartan-node-compile-cache'), NODE_NAME: '', POD_NAME: o.pod, POD_NAMESPACE: NAMESPACE } });
  const out = collectOutput(child);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { child, exited, output: () => out.text(), stop: () => stopChild(child) };
}

export interface ControllerSpec {
  readonly world: AwsWorld;
  readonly kubeconfig: string;
  readonly netConfPath: string;
  readonly node: string;
  readonly quota: number;
  readonly metricsPort: number;
}

export function startKubeController(o: ControllerSpec): Daemon {
  const { world } = o;
  const c = spawnController({
    identity: 'ctl-a', env: { ...awsEnv('AKIDRBAC'), NODE_NAME: o.node },
    args: [
      '--kube-subnet-mgr', '--kubeconfig-file', o.kubeconfig, '--net-config-path', o.netConfPath, '--leader-elect-resource-namespace', NAMESPACE,
      '--leader-elect-lease-duration', '3s', '--leader-elect-renew-deadline', '2s', '--leader-elect-retry-period', '500ms',
      '--provider', 'aws', '--cloud-endpoint', world.endpoint, '--region', 'us-east-1', '--vpc-id', world.vpcId, '--cluster-name', world.clusterName,
      '--route-quota', String(o.quota), '--resync-period', '2s', '--metrics-port', String(o.metricsPort),
    ],
  });
  return { child: c.child, exited: c.exited, output: () => c.output(), stop: () => c.stop() };
}

/** What a daemon logs when the apiserver refuses `r`: "<METHOD> <path>: 403 Forbidden: <the apiserver's message>". */
export function refusal(sa: 'tartan-agent' | 'tartan-controller', what: string, r: Pick<ApiRequest, 'verb' | 'resource' | 'group' | 'namespace' | 'objName'>): string {
  return `${what}: 403 Forbidden: ${forbiddenText(`system:serviceaccount:${NAMESPACE}:${sa}`, r)}`;
}

export type LogLine = Record<string, unknown>;

/** The daemon's JSON log lines printed after character `from`. */
export function logLines(d: Daemon, from = 0): LogLine[] {
  return d.output().slice(from).split('\n').flatMap((l): LogLine[] => {
    try {
      const v = JSON.parse(l) as unknown;
      return typeof v === 'object' && v !== null ? [v as LogLine] : [];
    } catch {
      return [];
    }
  });
}

/** Waits for a log line (after `from`) with message `msg` whose `field` holds `text`; answers it. */
export async function waitLogged(d: Daemon, o: { from: number; msg: string | RegExp; field: string; text: string; timeoutMs?: number }): Promise<LogLine> {
  const matches = (l: LogLine): boolean => (typeof o.msg === 'string' ? l.msg === o.msg : o.msg.test(String(l.msg))) && (typeof l[o.field] === 'string' && (l[o.field] as string).includes(o.text));
  return waitFor(`a log line "${String(o.msg)}" with ${o.field} ${o.text}`, () => logLines(d, o.from).find(matches), {
    timeoutMs: o.timeoutMs ?? 15_000, details: () => d.output().slice(o.from).slice(-3000),
  });
}
