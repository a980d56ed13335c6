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
//
// Two clouds in one lab (hybrid-world.ts): the VPC holds only its own hosts and its
// routes go to a router table of its own, used only by packets that come in from
// its hosts' links (`ip rule iif s<N>`); the GCE network (hybrid-gce.ts) does the
// same with another table. A packet one cloud's host sends raw to the other
// cloud's pod subnet then finds no route: only vxlan crosses between them, as it must.
import { formatRouteDomain } from '../../src/lease/hybrid.ts';
import { type AwsEmulator, startAwsEmulator } from '../emulators/aws-ec2/emulator.ts';
import type { EmulatorAdmin, RouteSnapshot } from '../emulators/aws-ec2/admin.ts';
import type { RawRoute } from './inspect.ts';
import type { HybridHost, HybridLab } from './hybrid.ts';
import { ipBatch, nsExec } from './netns.ts';

/** The route protocol of routes the VPC router got from the route table. */
export const VPC_ROUTE_PROTO = '200';

/** A cloud network of the lab, as the path observer (hybrid-paths.ts) sees it. */
export interface LabCloudNetwork {
  /** Its hosts' route domain (their agents' --route-domain). */
  readonly domain: string;
  /** Whether a host sits in this network. */
  has(host: HybridHost): boolean;
  /** The VPC router's routes that came from this network's route table. */
  kernelRoutes(): Promise<RawRoute[]>;
}

/** Where a cloud network's routes go in the VPC router: a table (default main) and their protocol. */
export interface RouterTable {
  readonly table?: number | undefined;
  readonly proto: string;
}

/** The router's routes of one cloud network. */
export async function routerRoutes(router: string, t: RouterTable): Promise<RawRoute[]> {
  const res = await nsExec(router, 'ip', ['-4', '-json', 'route', 'show', 'table', String(t.table ?? 'main')]);
  // A table that never held a route does not exist yet: it is empty.
  if (res.code !== 0 && /FIB table does not exist/.test(res.stderr)) return [];
  if (res.code !== 0) throw new Error(`ip route show table ${t.table ?? 'main'} in ${router} exited ${res.code}: ${res.stderr.trim()}`);
  return (res.stdout.trim() === '' ? [] : (JSON.parse(res.stdout) as RawRoute[])).filter((r) => r.protocol === t.proto);
}

/** Makes the router's routes of one cloud network equal to `want` (destination → the next hop host's address). */
export async function syncRouterRoutes(router: string, t: RouterTable, want: ReadonlyMap<string, string>): Promise<void> {
  const table = t.table === undefined ? '' : ` table ${t.table}`;
  const have = await routerRoutes(router, t);
  const lines: string[] = [];
  for (const [dst, via] of want) {
    if (!have.some((r) => r.dst === dst && r.gateway === via)) lines.push(`route replace ${dst} via ${via} proto ${t.proto}${table}`);
  }
  for (const r of have) if (!want.has(r.dst)) lines.push(`route del ${r.dst} proto ${t.proto}${table}`);
  await ipBatch(router, lines);
}

/** Packets coming in from these hosts' links look up `table` first (then main, when it has no route). */
export async function routeHostsBy(lab: HybridLab, hosts: readonly HybridHost[], table: number): Promise<void> {
  await ipBatch(lab.vpcRouter, hosts.map((h) => `rule add iif s${h.index} lookup ${table} pref 100`));
}

export interface LabVpc extends LabCloudNetwork {
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
  /** The cloud hosts in this VPC (default: every cloud host). */
  readonly hosts?: readonly HybridHost[] | undefined;
  /** A router table of the VPC's own, used by its hosts' packets only (default: main, used by all). */
  readonly routerTable?: number | undefined;
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
    const members = o.hosts ?? lab.hosts.filter((x) => x.kind === 'cloud');
    const router: RouterTable = { table: o.routerTable, proto: VPC_ROUTE_PROTO };
    if (o.routerTable !== undefined) await routeHostsBy(lab, members, o.routerTable);
    // Launched as EC2 launches them: source/destination check on; the controller turns it off.
    for (const h of members) {
      instances.set(h, (await admin.seedInstance({ vpcId, privateIp: h.ip, tags: { Name: h.ns } })).id);
    }
    const ipOf = new Map([...instances].map(([h, id]) => [id, h.ip]));
    let chain = Promise.resolve();
    sync = () => {
      const run = chain.then(() => syncRouter({ lab, admin, routeTableId, ipOf, router }));
      chain = run.catch(() => {});
      return run;
    };
    return {
      endpoint: emulator.endpoint, admin, vpcId, routeTableId, clusterName,
      domain: formatRouteDomain({ cloud: 'aws', vpcId }),
      has: (h) => instances.has(h),
      instanceOf: (h) => {
        const id = instances.get(h);
        if (id === undefined) throw new Error(`${h.ns} is not a cloud host`);
        return id;
      },
      kernelRoutes: () => routerRoutes(lab.vpcRouter, router),
      tableRoutes: () => admin.routes({ routeTableId }),
      sync: () => sync(),
      close: () => emulator.close(),
    };
  } catch (err) {
    await emulator.close();
    throw err;
  }
}

async function syncRouter(o: { lab: HybridLab; admin: EmulatorAdmin; routeTableId: string; ipOf: ReadonlyMap<string, string>; router: RouterTable }): Promise<void> {
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
  await syncRouterRoutes(o.lab.vpcRouter, o.router, want);
}
