// The hybrid lab (hybrid.ts + vpc.ts) in Kubernetes mode: leases are Nodes in the
// kube-apiserver emulator (kube-cluster.ts: on the shared etcd, reached from each
// host namespace through its relays), not etcd keys.
//
//   Nodes         created as kube-controller-manager leaves them, each with its
//                 host's planned podCIDR (10.42.<N>.0/24), so pods can exist up front.
//   agents        `tartan agent --kube-subnet-mgr` in the host namespaces (NODE_NAME
//                 set), net-conf.json Backend aws-vpc; cloud hosts --route-domain
//                 aws:<vpc>, on-prem hosts --route-domain none.
//   controller    `tartan controller --kube-subnet-mgr --provider aws` in the root
//                 namespace (it needs only the emulators on 127.0.0.1), elected on a
//                 coordination.k8s.io Lease, its heartbeat on the node NODE_NAME names.
//
// Route status and heartbeat are node annotations: routeStatus() and heartbeat() read
// them raw from the apiserver, as `kubectl get node -o json` would show them.
import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { ROUTE_STATUS_ANNOTATION, heartbeatAnnotation } from '../../src/lease/kube-node.ts';
import { type PublishedRouteStatus, type RouteStatusHeartbeat, decodeHeartbeat, decodeRouteStatus } from '../../src/lease/route-status.ts';
import { subnetKey } from '../../src/lease/lease.ts';
import { spawnTracked, stopChild } from '../support/process.ts';
import { MAIN, subnetFileOf } from './agents.ts';
import type { HybridHost, HybridLab } from './hybrid.ts';
import { AWS_LAB_ENV, awsFlags, tail, waitSubnetEnv } from './hybrid-cluster.ts';
import { type KubeLab, startKubeLab } from './kube-cluster.ts';
import type { LabVpc } from './vpc.ts';

export interface HybridKubeClusterOptions {
  /** The shared etcd (the apiserver emulator keeps its objects there). */
  readonly etcdEndpoint: string;
  /** Agents' --resync-period (default 1s). */
  readonly agentResync?: string | undefined;
  /** Controller's --resync-period (default 1s): its heartbeat goes stale 2 × this + 5 s after it stops. */
  readonly controllerResync?: string | undefined;
}

export interface HybridKubeCluster {
  readonly kube: KubeLab;
  /** Namespace of the controller's election Lease. */
  readonly electionNamespace: string;
  /** Creates the host's Node (its planned podCIDR), starts its agent and waits for its subnet.env (then sets the lab pods' MTU, if it has any). */
  startAgent(host: HybridHost): Promise<void>;
  stopAgent(host: HybridHost): Promise<void>;
  /** Starts the AWS controller; its heartbeat goes on `heartbeatHost`'s Node. */
  startController(heartbeatHost: HybridHost): void;
  stopController(): Promise<void>;
  /** A host's route domain (its agent's --route-domain): aws:<vpc>, or none. */
  domainOf(host: HybridHost): string;
  /** The host's Node annotations. */
  annotations(host: HybridHost): Promise<Record<string, string>>;
  /** The route status the controller wrote on the host's Node (tartan.io/route-status). */
  routeStatus(host: HybridHost): Promise<PublishedRouteStatus | undefined>;
  /** The VPC controller's newest heartbeat, from whichever Nodes carry one (a restarted controller's node may differ). */
  heartbeat(): Promise<RouteStatusHeartbeat | undefined>;
  logTail(lines?: number): string;
  destroy(): Promise<void>;
}

const ELECTION_NAMESPACE = 'default';
/**
 * Roomy on purpose: the elector counts its renew deadline from the start of the round
 * that won, so a cold process's first round slower than the deadline (a loaded 2-core
 * machine) loses leadership as it wins it. One controller runs at a time, and a
 * restarted one has the same identity: it takes the Lease at once, whatever these are.
 */
const ELECTION_TIMINGS = ['--leader-elect-lease-duration', '10s', '--leader-elect-renew-deadline', '8s', '--leader-elect-retry-period', '1s'];

export async function startHybridKubeCluster(lab: HybridLab, vpc: LabVpc, o: HybridKubeClusterOptions): Promise<HybridKubeCluster> {
  const kube = await startKubeLab(lab, { etcdEndpoint: o.etcdEndpoint, backend: { Type: 'aws-vpc' } });
  const domainOf = (h: HybridHost): string => (vpc.has(h) ? vpc.domain : 'none');
  const controllerLog = join(kube.dir, 'controller.log');
  let controller: ChildProcess | undefined;
  const annotations = async (h: HybridHost): Promise<Record<string, string>> => {
    const res = await kube.raw('GET', `/api/v1/nodes/${kube.nodeName(h)}`);
    if (res.status !== 200) throw new Error(`get node ${kube.nodeName(h)}: ${res.status} ${res.text}`);
    return res.json<{ metadata: { annotations?: Record<string, string> } }>().metadata.annotations ?? {};
  };
  return {
    kube,
    electionNamespace: ELECTION_NAMESPACE,
    startAgent: async (host) => {
      await kube.createNode(host);
      const agent = kube.startAgent(host, ['--route-domain', domainOf(host), '--resync-period', o.agentResync ?? '1s']);
      const env = await waitSubnetEnv(host, subnetFileOf(host, kube.dir), agent);
      // A host made without pods has no cni0 yet: the CNI bridge plugin makes it with the MTU from subnet.env.
      if (host.pods.length > 0) await lab.setPodMtu(host, env);
    },
    stopAgent: async (host) => {
      await kube.stopAgent(host);
    },
    startController: (heartbeatHost) => {
      if (controller?.exitCode === null) throw new Error('the controller is running');
      const fd = openSync(controllerLog, 'a');
      try {
        controller = spawnTracked(process.execPath, [
          MAIN, 'controller', '--kube-subnet-mgr', '--kubeconfig-file', kube.api.kubeconfigPath, '--net-config-path', kube.netConfPath,
          '--leader-elect-resource-namespace', ELECTION_NAMESPACE, ...ELECTION_TIMINGS, ...awsFlags(vpc), '--cluster-name', vpc.clusterName, '--identity', 'aws-controller',
          '--resync-period', o.controllerResync ?? '1s',
        ], { stdio: ['ignore', fd, fd], env: { ...process.env, ...AWS_LAB_ENV, NODE_NAME: kube.nodeName(heartbeatHost) } });
      } finally {
        closeSync(fd);
      }
    },
    stopController: async () => {
      const c = controller;
      controller = undefined;
      if (c) await stopChild(c);
    },
    domainOf,
    annotations,
    routeStatus: async (host) => {
      const text = (await annotations(host))[ROUTE_STATUS_ANNOTATION];
      return text === undefined ? undefined : decodeRouteStatus(subnetKey(host.subnet), text);
    },
    heartbeat: async () => {
      const key = heartbeatAnnotation(vpc.domain);
      let newest: RouteStatusHeartbeat | undefined;
      for (const h of lab.hosts) {
        const text = (await annotations(h))[key];
        const hb = text === undefined ? undefined : decodeHeartbeat(text);
        if (hb && (!newest || Date.parse(hb.observed) > Date.parse(newest.observed))) newest = hb;
      }
      return newest;
    },
    logTail: (n = 15) => [...lab.hosts.map((h) => `--- ${h.ns}\n${kube.logTail(h, n)}`), `--- controller\n${tail(controllerLog, n)}`].join('\n'),
    destroy: async () => {
      const c = controller;
      controller = undefined;
      if (c) await stopChild(c);
      await kube.destroy();
    },
  };
}
