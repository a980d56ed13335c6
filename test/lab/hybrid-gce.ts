// The hybrid lab's second cloud: a GCE network in the GCE emulator (in this process,
// on 127.0.0.1) — one project, one network, an instance per member host whose
// networkIP is the host's eth0 address — whose routes the VPC router carries in a
// table of their own (vpc.ts: used only by packets from the member hosts' links,
// proto 201): each route inside the cluster Network to a member instance becomes
// `<destRange> via <instance IP>`.
//
// The GCE emulator has no mutation hook (EC2's has), so the table follows the routes
// by polling them in process every 100 ms and changing the kernel only when they
// changed. The controller publishes `programmed` when the insert operation is DONE,
// up to one poll before the router carries the route: the tests wait for the
// router's table before they count packets.
import { contains, parseCidr } from '../../src/net/cidr.ts';
import { formatRouteDomain } from '../../src/lease/hybrid.ts';
import { type GceEmulator, startGceEmulator } from '../emulators/gce/index.ts';
import type { RawRoute } from './inspect.ts';
import type { HybridHost, HybridLab } from './hybrid.ts';
import { type LabCloudNetwork, type RouterTable, routeHostsBy, routerRoutes, syncRouterRoutes } from './vpc.ts';

/** The route protocol of routes the VPC router got from the GCE network. */
export const GCE_ROUTE_PROTO = '201';
const ZONE = 'europe-west1-b';
const NETWORK = 'tartan-net';
const POLL_MS = 100;

export interface LabGceRoute {
  readonly name: string;
  readonly destRange: string;
  /** `zones/<zone>/instances/<name>` (the tail of the URL GCE shows). */
  readonly nextHopInstance: string | undefined;
}

export interface LabGce extends LabCloudNetwork {
  readonly endpoint: string;
  /** The static token the controller sends (GOOGLE_OAUTH_ACCESS_TOKEN). */
  readonly token: string;
  readonly project: string;
  readonly network: string;
  /** `zones/<zone>/instances/<name>` of a member host. */
  instanceOf(host: HybridHost): string;
  /** The network's routes inside the cluster Network, as GCE shows them. */
  tableRoutes(): LabGceRoute[];
  close(): Promise<void>;
}

export interface LabGceOptions {
  readonly hosts: readonly HybridHost[];
  /** The VPC router's table for this network's routes. */
  readonly routerTable: number;
}

export async function startLabGce(lab: HybridLab, o: LabGceOptions): Promise<LabGce> {
  const token = `lab-${lab.id}`;
  const emu: GceEmulator = await startGceEmulator({ token, networks: [NETWORK], operationTiming: { pendingMs: 20, runningMs: 50 } });
  const stop = new AbortController();
  let polling: Promise<void> = Promise.resolve();
  try {
    const instances = new Map<HybridHost, string>();
    for (const h of o.hosts) {
      const name = h.ns;
      emu.admin.addInstance({ zone: ZONE, name, networkIP: h.ip, network: NETWORK, canIpForward: true });
      instances.set(h, `zones/${ZONE}/instances/${name}`);
    }
    await routeHostsBy(lab, o.hosts, o.routerTable);
    const router: RouterTable = { table: o.routerTable, proto: GCE_ROUTE_PROTO };
    const network = parseCidr(lab.network);
    const tableRoutes = (): LabGceRoute[] => (emu.admin.routes() as { name: string; destRange: string; nextHopInstance?: string }[])
      .filter((r) => contains(network, parseCidr(r.destRange, 'destRange', { allowHostBits: true })))
      .map((r) => ({ name: r.name, destRange: r.destRange, nextHopInstance: r.nextHopInstance === undefined ? undefined : instanceTail(r.nextHopInstance) }));
    const ipOf = new Map([...instances].map(([h, id]) => [id, h.ip]));
    polling = follow(stop.signal, async (last) => {
      const want = new Map<string, string>();
      for (const r of tableRoutes()) {
        const ip = r.nextHopInstance === undefined ? undefined : ipOf.get(r.nextHopInstance);
        if (ip !== undefined) want.set(r.destRange, ip);
      }
      const key = JSON.stringify([...want].sort());
      if (key !== last) await syncRouterRoutes(lab.vpcRouter, router, want);
      return key;
    });
    return {
      endpoint: emu.endpoint, token, project: emu.project, network: NETWORK,
      domain: formatRouteDomain({ cloud: 'gce', project: emu.project, network: NETWORK }),
      has: (h) => instances.has(h),
      instanceOf: (h) => {
        const id = instances.get(h);
        if (id === undefined) throw new Error(`${h.ns} is not in the GCE network`);
        return id;
      },
      tableRoutes,
      kernelRoutes: (): Promise<RawRoute[]> => routerRoutes(lab.vpcRouter, router),
      close: async () => {
        stop.abort();
        await polling;
        await emu.close();
      },
    };
  } catch (err) {
    stop.abort();
    await polling;
    await emu.close();
    throw err;
  }
}

/** Runs `step` every POLL_MS until `signal` aborts, handing it what it returned last; a failed step is tried again at the next poll (the tests see it as a route that does not come). */
async function follow(signal: AbortSignal, step: (last: string | undefined) => Promise<string>): Promise<void> {
  let last: string | undefined;
  while (!signal.aborted) {
    try {
      last = await step(last);
    } catch {
      last = undefined; // the kernel may be half-changed: compare afresh next time
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

function instanceTail(url: string): string {
  const m = /zones\/[^/]+\/instances\/[^/]+$/.exec(url);
  return m ? m[0] : url;
}
