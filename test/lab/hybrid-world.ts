// One call for the hybrid e2e tests, the demo and the bench: the namespaces
// (hybrid.ts), the VPC in the EC2 emulator (vpc.ts) and the tartan processes'
// harness (hybrid-cluster.ts), torn down in reverse order, also when a step fails.
import { type HostKind, type HybridLab, createHybridLab } from './hybrid.ts';
import { type HybridCluster, startHybridCluster } from './hybrid-cluster.ts';
import { type LabVpc, startLabVpc } from './vpc.ts';

export interface HybridWorldOptions {
  readonly hosts: readonly HostKind[];
  readonly podsPerHost?: number | undefined;
  /** Route table quota (default 50). */
  readonly quota?: number | undefined;
  /** etcd in the root namespace (`http://127.0.0.1:<port>`) and a key prefix of this world's own. */
  readonly etcdEndpoint: string;
  readonly prefix: string;
  readonly agentResync?: string | undefined;
  readonly controllerResync?: string | undefined;
}

export interface HybridWorld {
  readonly lab: HybridLab;
  readonly vpc: LabVpc;
  readonly cluster: HybridCluster;
  destroy(o?: { keepWorkDir?: boolean }): Promise<void>;
}

export async function startHybridWorld(o: HybridWorldOptions): Promise<HybridWorld> {
  const lab = await createHybridLab({ hosts: o.hosts, podsPerHost: o.podsPerHost });
  let vpc: LabVpc | undefined;
  try {
    vpc = await startLabVpc(lab, { quota: o.quota });
    const cluster = await startHybridCluster(lab, vpc, {
      etcdEndpoint: o.etcdEndpoint, prefix: o.prefix, agentResync: o.agentResync, controllerResync: o.controllerResync,
    });
    const v = vpc;
    return {
      lab, vpc, cluster,
      destroy: async (d = {}) => {
        try {
          await cluster.destroy(d);
        } finally {
          await v.close();
          await lab.destroy();
        }
      },
    };
  } catch (err) {
    await vpc?.close();
    await lab.destroy();
    throw err;
  }
}
