// The hybrid lab's VPC: the AWS EC2 emulator (in this process, on 127.0.0.1) holds
// the account — one VPC, an instance per cloud host whose private IP is the host's
// eth0 address, one route table tagged for the cluster — and the VPC router's
// kernel table is kept equal to that route table: each active route to an instance
// becomes `<destination> via <instance private IP> proto 200` in tt-<id>-vpc; a
// blackhole or deleted route is removed. EC2 drops traffic an instance forwards
// while its source/destination check is on, so such a route is left out too.
//
// The sync runs inside the emulator's onMutation hook, before CreateRoute /
// DeleteRoute / ReplaceRoute / ModifyInstanceAttribute answer: by the time the
// controller hears "created" (and publishes `programmed`), the VPC carries packets.
// Admin changes (terminate, removeRoute, setQuota) call sync() themselves.
import { type AwsEmulator, startAwsEmulator } from '../emulators/aws-ec2/emulator.ts';
import type { EmulatorAdmin, RouteSnapshot } from '../emulators/aws-ec2/admin.ts';
import { type RawRoute, routes } from './inspect.ts';
import type { HybridHost, HybridLab } from './hybrid.ts';
import { ipBatch } from './netns.ts';

/** The route protocol of routes the VPC router got from the route table. */
export const VPC_ROUTE_PROTO = '200';

export interface LabVpc {
  readonly endpoint: string;
  readonly admin: EmulatorAdmin;
  readonly vpcId: string;
  /** The cloud hosts' route domain, `aws:<vpc id>` (their agents' --route-domain). */
  readonly domain: string;
  readonly routeTableId: string;
  readonly clusterName: string;
  /** Instance id of a cloud host. */
  instanceOf(host: HybridHost): string;
  /** The VPC router's routes that came from the route table. */
  kernelRoutes(): Promise<RawRoute[]>;
  /** The route table as EC2 reports it. */
  tableRoutes(): Promise<RouteSnapshot[]>;
  /** Makes the VPC router's table equal to the route table now (serialized with the hook). */
  sync(): Promise<void>;
  close(): Promise<void>;
}

export interface LabVpcOptions {
  /** Route table quota (EC2's default 50). */
  readonly quota?: number | undefined;
  readonly clusterName?: string | undefined;
}

export async function startLabVpc(lab: HybridLab, o: LabVpcOptions = {}): Promise<LabVpc> {
  let sync: () => Promise<void> = async () => {};
  const emulator: AwsEmulator = await startAwsEmulator({ routeQuota: o.quota ?? 50, onMutation: () => sync() });
  try {
    const clusterName = o.clusterName ?? `lab-${lab.id}`;
    const { admin } = emulator;
    const vpcId = (await admin.seedVpc({ cidr: lab.vpcCidr })).id;
    const routeTableId = (await admin.seedRouteTable({ vpcId, quota: o.quota, tags: { 'tartan.io/cluster': clusterName, Name: `${lab.id}-main` } })).id;
    const instances = new Map<HybridHost, string>();
    // Launched as EC2 launches them: source/destination check on; the controller turns it off.
    for (const h of lab.hosts.filter((x) => x.kind === 'cloud')) {
      instances.set(h, (await admin.seedInstance({ vpcId, privateIp: h.ip, tags: { Name: h.ns } })).id);
    }
    const ipOf = new Map([...instances].map(([h, id]) => [id, h.ip]));
    let chain = Promise.resolve();
    sync = () => {
      const run = chain.then(() => syncRouter({ lab, admin, routeTableId, ipOf }));
      chain = run.catch(() => {});
      return run;
    };
    return {
      endpoint: emulator.endpoint, admin, vpcId, routeTableId, clusterName,
      domain: `aws:${vpcId}`,
      instanceOf: (h) => {
        const id = instances.get(h);
        if (id === undefined) throw new Error(`${h.ns} is not a cloud host`);
        return id;
      },
      kernelRoutes: async () => (await routes(lab.vpcRouter)).filter((r) => r.protocol === VPC_ROUTE_PROTO),
      tableRoutes: () => admin.routes({ routeTableId }),
      sync: () => sync(),
      close: () => emulator.close(),
    };
  } catch (err) {
    await emulator.close();
    throw err;
  }
}

async function syncRouter(o: { lab: HybridLab; admin: EmulatorAdmin; routeTableId: string; ipOf: ReadonlyMap<string, string> }): Promise<void> {
  const want = new Map<string, string>();
  for (const r of await o.admin.routes({ routeTableId: o.routeTableId })) {
    const instanceId = r.target.instanceId;
    const ip = instanceId === undefined ? undefined : o.ipOf.get(instanceId);
    if (r.state !== 'active' || instanceId === undefined || ip === undefined) continue;
    const instance = await o.admin.instance({ instanceId });
    const eni = instance.enis.find((e) => e.id === r.target.networkInterfaceId) ?? instance.enis[0];
    if (instance.state !== 'running' || eni === undefined || eni.sourceDestCheck) continue;
    want.set(r.destination, ip);
  }
  const have = (await routes(o.lab.vpcRouter)).filter((r) => r.protocol === VPC_ROUTE_PROTO);
  const lines: string[] = [];
  for (const [dst, via] of want) {
    if (!have.some((r) => r.dst === dst && r.gateway === via)) lines.push(`route replace ${dst} via ${via} proto ${VPC_ROUTE_PROTO}`);
  }
  for (const r of have) if (!want.has(r.dst)) lines.push(`route del ${r.dst} proto ${VPC_ROUTE_PROTO}`);
  await ipBatch(o.lab.vpcRouter, lines);
}
