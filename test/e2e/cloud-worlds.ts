// The clouds that mark routes themselves (GCE: name prefix + description; Alibaba:
// entry name + description), each as one small world behind the same face: the
// emulator in process, hosts for leases, a new provider per leader, a route made
// by hand through the admin API, the routes inside the Network, and the writes
// the emulator saw. Set up as controller-gce.test.ts and controller-alicloud.test.ts do.
import { createGceProvider } from '../../providers/gce/index.ts';
import type { RouteTableWriter } from '../../providers/route-table.ts';
import { FAST, FIXTURE, startAlicloudFixture } from '../emulators/alicloud/fixture.ts';
import { startGceEmulator } from '../emulators/gce/index.ts';
import { type Host, NETWORK } from './controller-kit.ts';

export interface CloudRoute {
  /** Carries the cluster's mark (tartan made it). */
  readonly marked: boolean;
  readonly nextHop: string;
}

export interface CloudWorld {
  /** The cluster name the provider marks routes with (and the ledger is kept under). */
  readonly cluster: string;
  /** The one managed table's id, as the controller names it. */
  readonly table: string;
  hosts(from: number, to: number): Host[];
  /** A provider for a new leader (closed with the world). */
  provider(): RouteTableWriter;
  /** A route someone made through the console or API: no tartan mark. */
  handMade(destination: string, instance: number): void;
  /** Routes inside the Network, by destination. */
  routes(): Map<string, CloudRoute>;
  /** Route writes (create, delete, modify) the emulator received from the `since`-th call on, any outcome. */
  writes(since: number): string[];
  /** How many API calls the emulator has logged: a mark for writes(). */
  callCount(): number;
  close(): Promise<void>;
}

export interface CloudWorldKind {
  readonly name: string;
  start(instances: number): Promise<CloudWorld>;
}

const inNetwork = (destination: string): boolean => destination.startsWith(NETWORK.replace(/0\.0\/16$/, ''));

const GCE_ZONE = 'europe-west1-b';
const GCE_DOMAIN = 'gce:tartan-test/tartan-net';
const gceIp = (i: number): string => `10.128.${(i + 2) >> 8}.${(i + 2) & 255}`;

async function gceWorld(instances: number): Promise<CloudWorld> {
  const emu = await startGceEmulator({ token: 'e2e-token', operationTiming: { pendingMs: 5, runningMs: 10 } });
  for (let i = 0; i < instances; i++) emu.admin.addInstance({ zone: GCE_ZONE, name: `node-${i}`, networkIP: gceIp(i) });
  const providers: { close(): Promise<void> }[] = [];
  return {
    cluster: 'e2e',
    table: 'tartan-net',
    hosts: (from, to) => Array.from({ length: to - from }, (_, k) => ({ ip: gceIp(from + k), domain: GCE_DOMAIN })),
    provider: () => {
      const p = createGceProvider({
        project: emu.project, network: 'tartan-net', endpoint: emu.endpoint, accessToken: 'e2e-token',
        clusterName: 'e2e', clusterNetworks: [NETWORK], rateLimits: { windowMs: 1000 }, retry: { baseMs: 10, maxMs: 200 },
      });
      providers.push(p);
      return p;
    },
    handMade: (destination, instance) => {
      const name = `by-hand-${destination.replace(/[./]/g, '-')}`;
      emu.admin.addRoute({ name, destRange: destination, nextHopInstance: `zones/${GCE_ZONE}/instances/node-${instance}`, description: 'added in the console' });
    },
    routes: () => {
      const out = new Map<string, CloudRoute>();
      for (const r of emu.admin.routes() as { name: string; destRange: string; description?: string; nextHopInstance?: string }[]) {
        if (!inNetwork(r.destRange)) continue;
        out.set(r.destRange, { marked: r.name.startsWith('tartan-e2e-') && r.description === 'tartan:e2e', nextHop: r.nextHopInstance ?? '' });
      }
      return out;
    },
    writes: (since) => emu.admin.calls().slice(since).filter((c) => c.method !== 'GET' && /^routes\./.test(c.id ?? '')).map((c) => c.id!),
    callCount: () => emu.admin.calls().length,
    close: async () => {
      for (const p of providers) await p.close();
      await emu.close();
    },
  };
}

async function alicloudWorld(instances: number): Promise<CloudWorld> {
  const f = await startAlicloudFixture({ emulator: FAST.emulator, provider: FAST.provider, instances });
  const domain = `alicloud:${FIXTURE.vpcId}`;
  return {
    cluster: FIXTURE.clusterName,
    table: FIXTURE.tableId,
    hosts: (from, to) => f.instances.slice(from, to).map((i) => ({ ip: i.ip, instanceId: i.id, domain })),
    provider: () => f.makeProvider(),
    handMade: (destination, instance) => {
      f.emu.admin.seedEntry({ tableId: FIXTURE.tableId, destination, name: 'added-in-the-console', nextHops: [{ NextHopId: f.instances[instance]!.id, NextHopType: 'Instance' }] });
    },
    routes: () => new Map(f.emu.admin.entries({ tableId: FIXTURE.tableId }).filter((e) => inNetwork(e.destination)).map((e) => [e.destination, {
      marked: e.name === `tartan-${FIXTURE.clusterName}` && e.description === `tartan:${FIXTURE.clusterName}`,
      nextHop: e.nextHops[0]?.NextHopId ?? '',
    }])),
    writes: (since) => f.emu.admin.calls().slice(since).filter((c) => /^(Create|Delete|Modify)Route/.test(c.action)).map((c) => c.action),
    callCount: () => f.emu.admin.calls().length,
    close: () => f.close(),
  };
}

export const MARKING_CLOUDS: readonly CloudWorldKind[] = [
  { name: 'GCE (compute emulator)', start: gceWorld },
  { name: 'Alibaba Cloud (VPC emulator)', start: alicloudWorld },
];
