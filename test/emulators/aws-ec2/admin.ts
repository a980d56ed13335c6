// The test-control API: seed the account, bend the rules, read the call log.
// The same methods answer in-process and as JSON at `POST /_admin/<method>`.
import type { AccountLimiter, FaultPlan, InjectFaults, RateLimits, StandingFaults } from './limits.ts';
import { DEFAULT_OWNER, type Ec2Model, type SeedInstance, type SeedRoute, type SeedRouteTable, type SeedVpc } from './model.ts';

export interface CallRecord {
  /** Clock time (ms) when the request arrived. */
  readonly time: number;
  readonly action: string;
  readonly params: Readonly<Record<string, string>>;
  readonly accessKeyId: string | undefined;
  /** HTTP status sent, or 0 when the connection was dropped. */
  readonly status: number;
  /** `ok`, an EC2 error code, or `dropped`. */
  readonly code: string;
}

export interface RouteSnapshot {
  readonly destination: string;
  readonly target: Readonly<Record<string, string | undefined>>;
  readonly origin: string;
  readonly state: 'active' | 'blackhole';
}

export interface EmulatorAdmin {
  seedVpc(s: SeedVpc): Promise<{ id: string }>;
  seedInstance(s: SeedInstance): Promise<{ id: string; enis: { id: string; privateIps: string[] }[] }>;
  seedRouteTable(s: SeedRouteTable): Promise<{ id: string }>;
  /** A route tartan did not make (by hand, to a gateway, propagated…); replaces one with the same destination. */
  seedRoute(s: SeedRoute & { routeTableId: string }): Promise<void>;
  removeRoute(s: { routeTableId: string; destination: string }): Promise<void>;
  /** Adds or overwrites tags on a table, as CreateTags would (an operator fixing a tag). */
  tagRouteTable(s: { routeTableId: string; tags: Record<string, string> }): Promise<void>;
  terminateInstance(s: { instanceId: string }): Promise<void>;
  setQuota(s: { routeTableId: string; quota: number }): Promise<void>;
  /** Caps every describe page at `max` items (EC2 pages at MaxResults; this forces small pages). */
  setPageSizeCap(s: { max: number }): Promise<void>;
  /** Changes the throttling numbers (or `enabled`); every bucket starts full again. */
  setLimits(s: Partial<RateLimits>): Promise<void>;
  setFaults(s: Partial<StandingFaults>): Promise<void>;
  injectFaults(s: InjectFaults): Promise<void>;
  calls(s?: { since?: number }): Promise<CallRecord[]>;
  routes(s: { routeTableId: string }): Promise<RouteSnapshot[]>;
  instance(s: { instanceId: string }): Promise<{ state: string; sourceDestCheck: boolean | undefined; enis: { id: string; sourceDestCheck: boolean }[] }>;
  /** Forgets everything: account, call log, faults, limits back to the start options. */
  reset(): Promise<void>;
}

export interface AdminParts {
  model(): Ec2Model;
  readonly limiter: AccountLimiter;
  readonly faults: FaultPlan;
  readonly log: CallRecord[];
  setPageCap(n: number): void;
  reset(): void;
}

export function createAdmin(parts: AdminParts): EmulatorAdmin {
  return {
    seedVpc: async (s) => ({ id: parts.model().seedVpc(s).id }),
    seedInstance: async (s) => {
      const i = parts.model().seedInstance(s);
      return { id: i.id, enis: i.enis.map((e) => ({ id: e.id, privateIps: [...e.privateIps] })) };
    },
    seedRouteTable: async (s) => ({ id: parts.model().seedRouteTable({ ownerId: DEFAULT_OWNER, ...s }).id }),
    seedRoute: async ({ routeTableId, ...route }) => parts.model().seedRoute(routeTableId, route),
    removeRoute: async ({ routeTableId, destination }) => {
      const t = parts.model().table(routeTableId);
      const i = t.routes.findIndex((r) => r.destination === destination);
      if (i >= 0) t.routes.splice(i, 1);
    },
    tagRouteTable: async ({ routeTableId, tags }) => parts.model().tagTable(routeTableId, tags),
    terminateInstance: async ({ instanceId }) => parts.model().terminate(instanceId),
    setQuota: async ({ routeTableId, quota }) => { parts.model().table(routeTableId).quota = quota; },
    setPageSizeCap: async ({ max }) => parts.setPageCap(max),
    setLimits: async (s) => parts.limiter.set(s),
    setFaults: async (s) => { parts.faults.standing = { ...parts.faults.standing, ...s }; },
    injectFaults: async (s) => parts.faults.inject(s),
    calls: async (s) => parts.log.filter((c) => c.time >= (s?.since ?? 0)),
    routes: async ({ routeTableId }) => {
      const model = parts.model();
      return model.table(routeTableId).routes.map((r) => ({
        destination: r.destination, target: { ...r.target }, origin: r.origin, state: model.routeState(r),
      }));
    },
    instance: async ({ instanceId }) => {
      const i = parts.model().instance(instanceId);
      return { state: i.state, sourceDestCheck: i.enis[0]?.sourceDestCheck, enis: i.enis.map((e) => ({ id: e.id, sourceDestCheck: e.sourceDestCheck })) };
    },
    reset: async () => parts.reset(),
  };
}

/** Calls the admin API of an emulator in another process. */
export function remoteAdmin(endpoint: string): EmulatorAdmin {
  const call = async (method: string, body: unknown): Promise<unknown> => {
    const res = await fetch(`${endpoint}/_admin/${method}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body ?? {}) });
    const text = await res.text();
    if (!res.ok) throw new Error(`admin ${method}: HTTP ${res.status}: ${text}`);
    return text === '' ? undefined : JSON.parse(text);
  };
  return new Proxy({} as EmulatorAdmin, {
    get: (_target, method) => (body?: unknown) => call(String(method), body),
  });
}
