// The compute v1 endpoints the emulator serves, under /compute/v1/projects/{project}.
// Each request is first resolved to an endpoint (its method id and whether it is
// a read or a write, for rate quotas and the call log), then run.
import type { Clock } from '../../../src/util/time.ts';
import { matches, parseFilter } from './filter.ts';
import type { CallKind } from './limits.ts';
import { ApiError, invalidField, listJson, notFound, projectUrl } from './resources.ts';
import { instanceView, networkView, operationStatus, operationView, projectView, routeView } from './views.ts';
import type { World } from './world.ts';

export interface ComputeSettings {
  /** Server-side cap on list page size (to make small fixtures paginate). */
  pageSizeCap?: number | undefined;
  /** How long globalOperations.wait blocks before answering a not-yet-DONE operation (2 minutes in GCE). */
  waitDeadlineMs: number;
}

export interface Endpoint {
  readonly id: string;
  readonly kind: CallKind;
  readonly project: string;
  run(): unknown;
}

export interface ComputeCtx {
  readonly world: World;
  readonly settings: ComputeSettings;
  readonly clock: Clock;
  readonly query: URLSearchParams;
  readonly body: () => unknown;
  readonly signal: AbortSignal;
}

type Handler = (ctx: ComputeCtx, project: string, args: string[]) => unknown;
const TABLE: readonly [string, RegExp, string, CallKind, Handler][] = [
  ['GET', /^$/, 'projects.get', 'read', (c, p) => projectView(c.world, c.world.project(p))],
  ['GET', /^\/global\/networks\/([^/]+)$/, 'networks.get', 'read', getNetwork],
  ['POST', /^\/global\/routes$/, 'routes.insert', 'write', (c, p) => opView(c, c.world.insertRoute(p, c.body(), requestId(c)))],
  ['GET', /^\/global\/routes$/, 'routes.list', 'read', listRoutes],
  ['GET', /^\/global\/routes\/([^/]+)$/, 'routes.get', 'read', getRoute],
  ['DELETE', /^\/global\/routes\/([^/]+)$/, 'routes.delete', 'write', (c, p, [r]) => opView(c, c.world.deleteRoute(p, r!, requestId(c)))],
  ['GET', /^\/global\/operations\/([^/]+)$/, 'globalOperations.get', 'read', (c, p, [o]) => opView(c, operation(c, p, o!))],
  ['POST', /^\/global\/operations\/([^/]+)\/wait$/, 'globalOperations.wait', 'read', waitOperation],
  ['GET', /^\/zones\/([^/]+)\/instances\/([^/]+)$/, 'instances.get', 'read', getInstance],
  ['GET', /^\/zones\/([^/]+)\/instances$/, 'instances.list', 'read', listZoneInstances],
  ['GET', /^\/aggregated\/instances$/, 'instances.aggregatedList', 'read', aggregatedInstances],
];

export function resolveEndpoint(method: string, pathname: string, ctx: ComputeCtx): Endpoint | undefined {
  const m = /^\/compute\/v1\/projects\/([^/]+)(\/.*)?$/.exec(pathname);
  if (!m) return undefined;
  const project = decodeURIComponent(m[1]!);
  const rest = m[2] ?? '';
  for (const [verb, pattern, id, kind, handler] of TABLE) {
    const args = pattern.exec(rest);
    if (verb === method && args) {
      const run = (): unknown => {
        ctx.world.advance();
        return handler(ctx, project, args.slice(1).map(decodeURIComponent));
      };
      return { id, kind, project, run };
    }
  }
  return undefined;
}

function requestId(c: ComputeCtx): string | undefined {
  const id = c.query.get('requestId') ?? undefined;
  if (id === undefined) return undefined;
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id) || /^[0-]+$/.test(id)) {
    throw invalidField('requestId', id, 'Must be a valid UUID with the exception that zero UUID is not supported.');
  }
  return id;
}

function opView(c: ComputeCtx, op: Parameters<typeof operationView>[0]): unknown {
  c.world.advance();
  return operationView(op, c.clock.now());
}

function operation(c: ComputeCtx, project: string, name: string): Parameters<typeof operationView>[0] {
  const op = c.world.project(project).operations.get(name);
  if (!op) throw notFound(`projects/${project}/global/operations/${name}`);
  return op;
}

function getNetwork(c: ComputeCtx, project: string, [name]: string[]): unknown {
  const p = c.world.project(project);
  const net = p.networks.get(name!);
  if (!net) throw notFound(`projects/${project}/global/networks/${name}`);
  return networkView(p, name!, net);
}

function getRoute(c: ComputeCtx, project: string, [name]: string[]): unknown {
  c.world.advance();
  const route = c.world.project(project).routes.get(name!);
  if (!route) throw notFound(`projects/${project}/global/routes/${name}`);
  return routeView(c.world, project, route);
}

function listRoutes(c: ComputeCtx, project: string): unknown {
  c.world.advance();
  const p = c.world.project(project);
  const all = [...p.routes.values()].map((r) => ({ key: r.name, json: routeView(c.world, project, r) }));
  const { items, next } = page(c, all);
  return listJson('compute#routeList', `projects/${project}/global/routes`, items, next, `${projectUrl(project)}/global/routes`);
}

async function waitOperation(c: ComputeCtx, project: string, [name]: string[]): Promise<unknown> {
  const deadline = c.clock.now() + c.settings.waitDeadlineMs;
  for (;;) {
    c.world.advance();
    const op = operation(c, project, name!);
    const now = c.clock.now();
    if (operationStatus(op, now) === 'DONE' || now >= deadline) return opView(c, op);
    await c.clock.sleep(Math.max(1, Math.min(op.doneAt, deadline) - now), c.signal);
  }
}

function getInstance(c: ComputeCtx, project: string, [zone, name]: string[]): unknown {
  const inst = c.world.project(project).instances.get(`${zone}/${name}`);
  if (!inst) throw notFound(`projects/${project}/zones/${zone}/instances/${name}`);
  return instanceView(inst);
}

function instanceItems(c: ComputeCtx, project: string, zone?: string): { key: string; json: Record<string, unknown>; zone: string }[] {
  const p = c.world.project(project);
  return [...p.instances.values()]
    .filter((i) => zone === undefined || i.zone === zone)
    .map((i) => ({ key: `${i.zone}/${i.name}`, json: instanceView(i), zone: i.zone }));
}

function listZoneInstances(c: ComputeCtx, project: string, [zone]: string[]): unknown {
  const { items, next } = page(c, instanceItems(c, project, zone));
  const self = `${projectUrl(project)}/zones/${zone}/instances`;
  return listJson('compute#instanceList', `projects/${project}/zones/${zone}/instances`, items, next, self);
}

/** instances.aggregatedList: one page across zones, keyed `zones/<zone>`; zones without results on the page carry a warning. */
function aggregatedInstances(c: ComputeCtx, project: string): unknown {
  const all = instanceItems(c, project);
  const { items, next } = page(c, all);
  const byZone: Record<string, unknown> = {};
  for (const zone of [...c.world.project(project).zones].sort()) {
    const here = (items ?? []).filter((i) => (i as { zone: string }).zone.endsWith(`/zones/${zone}`));
    byZone[`zones/${zone}`] = here.length > 0 ? { instances: here } : {
      warning: {
        code: 'NO_RESULTS_ON_PAGE',
        message: `There are no results for scope 'zones/${zone}' on this page.`,
        data: [{ key: 'scope', value: `zones/${zone}` }],
      },
    };
  }
  return {
    kind: 'compute#instanceAggregatedList', id: `projects/${project}/aggregated/instances`, items: byZone,
    ...(next ? { nextPageToken: next } : {}), selfLink: `${projectUrl(project)}/aggregated/instances`,
  };
}

/** Filters, orders by key (name) and cuts one page; the token names the last key served. */
function page<T extends { key: string; json: Record<string, unknown> }>(c: ComputeCtx, all: readonly T[]): { items: Record<string, unknown>[] | undefined; next?: string } {
  const filter = parseFilter(c.query.get('filter') ?? undefined);
  const maxText = c.query.get('maxResults');
  const max = maxText === null || maxText === '0' ? 500 : Number(maxText);
  if (!Number.isInteger(max) || max < 0 || max > 500) {
    throw invalidField('maxResults', maxText, 'Must be less than or equal to 500');
  }
  const size = Math.min(max, c.settings.pageSizeCap ?? 500);
  const after = decodeToken(c.query.get('pageToken'));
  const rest = all.filter((x) => matches(filter, x.json) && (after === undefined || x.key > after)).sort((a, b) => (a.key < b.key ? -1 : 1));
  const items = rest.slice(0, size).map((x) => x.json);
  const next = rest.length > size ? Buffer.from(JSON.stringify({ after: rest[size - 1]!.key })).toString('base64url') : undefined;
  return { items: items.length > 0 ? items : undefined, ...(next ? { next } : {}) };
}

function decodeToken(token: string | null): string | undefined {
  if (token === null || token === '') return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { after?: unknown };
    if (typeof parsed.after === 'string') return parsed.after;
  } catch { /* fall through to the 400 below */ }
  throw new ApiError(400, 'invalid', `Invalid value for field 'pageToken': '${token}'. Invalid page token.`);
}
