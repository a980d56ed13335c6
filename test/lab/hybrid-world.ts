// One call for the hybrid e2e tests, the demo and the bench: the namespaces
// (hybrid.ts), the VPC in the EC2 emulator (vpc.ts), optionally a GCE network in the
// GCE emulator for some of the cloud hosts (hybrid-gce.ts: two clouds, each with its
// own router table), and the tartan processes' harness (hybrid-cluster.ts), torn
// down in reverse order, also when a step fails.
import { type HostKind, type HybridLab, createHybridLab } from './hybrid.ts';
import { type HybridCluster, startHybridCluster } from './hybrid-cluster.ts';
import { type LabCloudNetwork, type LabVpc, startLabVpc } from './vpc.ts';
import { type LabGce, startLabGce } from './hybrid-gce.ts';

/** The VPC router's tables of the two clouds, when there are two. */
const AWS_TABLE = 200;
const GCE_TABLE = 201;

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
  /** Cloud hosts (1-based, as their namespaces' h<N>) in a GCE network instead of the VPC. */
  readonly gceHosts?: readonly number[] | undefined;
}

export interface HybridWorld {
  readonly lab: HybridLab;
  readonly vpc: LabVpc;
  readonly cluster: HybridCluster;
  /** The GCE network, when gceHosts named some. */
  readonly gce: LabGce | undefined;
  /** Every cloud network of the world (for observePaths). */
  readonly clouds: readonly LabCloudNetwork[];
  destroy(o?: { keepWorkDir?: boolean }): Promise<void>;
}

export async function startHybridWorld(o: HybridWorldOptions): Promise<HybridWorld> {
  const lab = await createHybridLab({ hosts: o.hosts, podsPerHost: o.podsPerHost });
  let vpc: LabVpc | undefined;
  let gce: LabGce | undefined;
  const inGce = lab.hosts.filter((h) => h.kind === 'cloud' && (o.gceHosts ?? []).includes(h.index));
  const two = inGce.length > 0;
  try {
    vpc = await startLabVpc(lab, {
      quota: o.quota, ...(two ? { hosts: lab.hosts.filter((h) => h.kind === 'cloud' && !inGce.includes(h)), routerTable: AWS_TABLE } : {}),
    });
    if (two) gce = await startLabGce(lab, { hosts: inGce, routerTable: GCE_TABLE });
    const cluster = await startHybridCluster(lab, vpc, {
      etcdEndpoint: o.etcdEndpoint, prefix: o.prefix, agentResync: o.agentResync, controllerResync: o.controllerResync, gce,
    });
    const [v, g] = [vpc, gce];
    return {
      lab, vpc, cluster, gce, clouds: g ? [v, g] : [v],
      destroy: async (d = {}) => {
        try {
          await cluster.destroy(d);
        } finally {
          await g?.close();
          await v.close();
          await lab.destroy();
        }
      },
    };
  } catch (err) {
    await gce?.close();
    await vpc?.close();
    await lab.destroy();
    throw err;
  }
}
