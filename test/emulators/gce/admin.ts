// Test controls: the same operations in process (GceAdmin) and over HTTP under
// /_admin/ (for the standalone emulator). Admin calls need no token, are not
// rate-limited, and do not appear in the call log.
import type { ComputeSettings } from './compute.ts';
import type { FaultRequest, Faults, RateLimitConfig, RateWindows } from './limits.ts';
import { routeView } from './views.ts';
import type { OperationTiming, World } from './world.ts';

export interface CallRecord {
  readonly method: string;
  /** Path and query as sent. */
  readonly path: string;
  /** The API method, e.g. `routes.insert`, when the path names one. */
  readonly id?: string | undefined;
  /** HTTP status answered; 0 when the connection was dropped. */
  readonly status: number;
  /** Clock time the request arrived. */
  readonly at: number;
  readonly durationMs: number;
}

export interface InstanceSeed {
  readonly zone: string;
  readonly name: string;
  readonly networkIP: string;
  /** Network name; default: the first seeded network. */
  readonly network?: string;
  readonly canIpForward?: boolean;
  readonly status?: string;
  readonly project?: string;
}

export interface RouteSeed {
  readonly name: string;
  readonly destRange: string;
  readonly network?: string;
  /** `zones/<z>/instances/<n>` or a URL. */
  readonly nextHopInstance?: string;
  readonly nextHopIp?: string;
  readonly description?: string;
  readonly priority?: number;
  readonly tags?: readonly string[];
  readonly project?: string;
}

export interface GceAdmin {
  readonly project: string;
  addNetwork(name: string, opts?: { project?: string; defaultRoute?: boolean }): void;
  addInstance(seed: InstanceSeed): void;
  removeInstance(zone: string, name: string, project?: string): void;
  /** A route put in place at once, e.g. someone else's. */
  addRoute(seed: RouteSeed): void;
  removeRoute(name: string, project?: string): void;
  /** Routes as routes.get renders them (operations that are due are applied first). */
  routes(project?: string): Record<string, unknown>[];
  /** Routes per network (the ROUTES quota); inserts beyond it fail in their operation. */
  setQuota(quota: number): void;
  setPageSizeCap(n: number | undefined): void;
  setOperationTiming(timing: Partial<OperationTiming>): void;
  setWaitDeadline(ms: number): void;
  setRateLimits(limits: Partial<RateLimitConfig>): void;
  injectFaults(faults: FaultRequest): void;
  calls(): readonly CallRecord[];
  clearCalls(): void;
  /** Back to the state the emulator started in. */
  reset(): void;
}

export interface AdminState {
  readonly project: string;
  readonly world: World;
  readonly settings: ComputeSettings;
  readonly rates: RateWindows;
  readonly faults: Faults;
  readonly calls: CallRecord[];
  readonly reset: () => void;
}

export function createAdmin(s: AdminState): GceAdmin {
  const firstNetwork = (project: string): string => {
    const name = s.world.projects.get(project)?.networks.keys().next().value;
    if (name === undefined) throw new Error(`project ${project} has no network; add one first`);
    return name;
  };
  return {
    project: s.project,
    addNetwork: (name, opts = {}) => s.world.addNetwork(opts.project ?? s.project, name, opts.defaultRoute ?? true),
    addInstance: (i) => {
      const project = i.project ?? s.project;
      s.world.addInstance({
        project, zone: i.zone, name: i.name, networkIP: i.networkIP, network: i.network ?? firstNetwork(project),
        canIpForward: i.canIpForward ?? true, status: i.status ?? 'RUNNING',
      });
    },
    removeInstance: (zone, name, project = s.project) => void s.world.removeInstance(project, zone, name),
    addRoute: (r) => {
      const project = r.project ?? s.project;
      s.world.seedRoute(project, { ...r, network: `global/networks/${r.network ?? firstNetwork(project)}`, project: undefined });
    },
    removeRoute: (name, project = s.project) => void s.world.project(project).routes.delete(name),
    routes: (project = s.project) => {
      s.world.advance();
      return [...s.world.project(project).routes.values()].map((r) => routeView(s.world, project, r));
    },
    setQuota: (quota) => void (s.world.opts.routeQuota = quota),
    setPageSizeCap: (n) => void (s.settings.pageSizeCap = n),
    setOperationTiming: (t) => void (s.world.opts.timing = { ...s.world.opts.timing, ...t }),
    setWaitDeadline: (ms) => void (s.settings.waitDeadlineMs = ms),
    setRateLimits: (l) => void (s.rates.config = { ...s.rates.config, ...l }),
    injectFaults: (f) => {
      s.faults.add(f);
      for (const e of f.operationErrors ?? []) {
        s.world.nextOperationFailures.push({ httpStatus: 400, httpMessage: 'BAD REQUEST', ...e });
      }
    },
    calls: () => [...s.calls],
    clearCalls: () => void (s.calls.length = 0),
    reset: s.reset,
  };
}

/** Serves /_admin/*; answers the JSON body to send (status 200) or throws for a 400. */
export function handleAdmin(admin: GceAdmin, method: string, url: URL, body: unknown): unknown {
  const path = url.pathname.replace(/^\/_admin/, '');
  const project = url.searchParams.get('project') ?? undefined;
  const b = (body ?? {}) as Record<string, unknown>;
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const key = `${method} /${parts[0] ?? ''}`;
  switch (key) {
    case 'POST /networks': admin.addNetwork(String(b.name), b); break;
    case 'POST /instances': admin.addInstance(b as unknown as InstanceSeed); break;
    case 'DELETE /instances': admin.removeInstance(parts[1]!, parts[2]!, project); break;
    case 'POST /routes': admin.addRoute(b as unknown as RouteSeed); break;
    case 'GET /routes': return { items: admin.routes(project) };
    case 'DELETE /routes': admin.removeRoute(parts[1]!, project); break;
    case 'PUT /config': applyConfig(admin, b); break;
    case 'POST /faults': admin.injectFaults(b); break;
    case 'GET /calls': return { items: admin.calls() };
    case 'DELETE /calls': admin.clearCalls(); break;
    case 'POST /reset': admin.reset(); break;
    default: throw new Error(`no admin endpoint ${method} ${url.pathname}`);
  }
  return { ok: true };
}

function applyConfig(admin: GceAdmin, b: Record<string, unknown>): void {
  if (typeof b.quota === 'number') admin.setQuota(b.quota);
  if ('pageSizeCap' in b) admin.setPageSizeCap(typeof b.pageSizeCap === 'number' ? b.pageSizeCap : undefined);
  if (b.operationTiming) admin.setOperationTiming(b.operationTiming);
  if (typeof b.waitDeadlineMs === 'number') admin.setWaitDeadline(b.waitDeadlineMs);
  if (b.rateLimits) admin.setRateLimits(b.rateLimits);
}
