// The REST verbs on one resource, as the apiserver's generic registry answers
// them: get, list (paging, RV semantics), watch, create, update (PUT), patch,
// delete, deletecollection; `status` is the only subresource.
import type { ServerResponse } from 'node:http';
import { applyPatch, PATCH_TYPES } from './patch.ts';
import type { ResourceRequest } from './request-info.ts';
import { apiVersionOf, findResource, type ResourceDef } from './resources.ts';
import { bothSelectors, type Selector } from './selectors.ts';
import { metaOf, type ObjectStore } from './store.ts';
import { checkPrecondition, prepareCreate, prepareUpdate, type WriteTarget } from './strategy.ts';
import { ApiError, badRequest, type Json, type JsonObject, methodNotAllowed, notFound, pathNotFound, str, unsupportedMediaType } from './status.ts';
import { serveWatch, type WatchHub } from './watch.ts';

export interface HandlerContext {
  readonly store: ObjectStore;
  readonly hub: WatchHub;
  readonly now: () => Date;
  readonly bookmarkIntervalMs: number;
  /** Watch length when the client gives no timeoutSeconds (the apiserver: random 1800–3600 s). */
  readonly defaultWatchTimeoutMs: () => number;
}

export interface Call {
  readonly info: ResourceRequest;
  readonly url: URL;
  readonly contentType: string | undefined;
  readonly body: string;
  readonly res: ServerResponse;
}

export function reply(res: ServerResponse, code: number, body: Json): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * Bodies of create/update must be JSON: protobuf (what kubectl's imperative
 * generators send, e.g. `kubectl create configmap`) and YAML are not decoded here.
 */
function requireJson(contentType: string | undefined): void {
  const type = (contentType ?? 'application/json').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json' && type !== '') throw unsupportedMediaType(['application/json']);
}

function parseBody(body: string): JsonObject {
  try {
    const parsed = JSON.parse(body) as Json;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed;
  } catch { /* answered below */ }
  throw badRequest(`the object provided is unrecognized (must be of type JSON object): ${body.slice(0, 80)}`);
}

function resolve(info: ResourceRequest): ResourceDef {
  const r = findResource(info.group, info.version, info.resource);
  if (!r) throw pathNotFound();
  if (info.subresource !== undefined && !(info.subresource === 'status' && r.hasStatus && info.name)) throw pathNotFound();
  return r;
}

export async function handleResource(ctx: HandlerContext, call: Call): Promise<void> {
  const { info } = call;
  const r = resolve(info);
  const ns = r.namespaced ? info.namespace : undefined;
  if (r.namespaced && !ns && !['list', 'watch', 'deletecollection'].includes(info.verb)) throw pathNotFound();
  const target: WriteTarget = { r, namespace: ns, subresource: info.subresource, now: ctx.now };
  const selector = bothSelectors(call.url, r.kind);
  switch (info.verb) {
    case 'get': return reply(call.res, 200, await ctx.store.get(r, ns, info.name!));
    case 'list': return reply(call.res, 200, await list(ctx, r, ns, call.url, selector));
    case 'watch': return watch(ctx, call, r, ns, selector);
    case 'create': return create(ctx, target, call);
    case 'update':
      requireJson(call.contentType);
      return reply(call.res, 200, await update(ctx, target, info.name!, parseBody(call.body)));
    case 'patch': return reply(call.res, 200, await patch(ctx, target, info.name!, call));
    case 'delete': return reply(call.res, 200, await remove(ctx, r, ns, info.name!));
    case 'deletecollection': return reply(call.res, 200, await removeAll(ctx, r, ns, selector, call.url));
    default: throw methodNotAllowed();
  }
}

async function list(ctx: HandlerContext, r: ResourceDef, ns: string | undefined, url: URL, selector: Selector): Promise<JsonObject> {
  const q = url.searchParams;
  const rv = q.get('resourceVersion') ?? '';
  const limit = Number(q.get('limit') ?? 0) || undefined;
  const match = q.get('resourceVersionMatch') ?? '';
  if (match && !rv) throw badRequest('resourceVersionMatch is forbidden unless resourceVersion is provided');
  if (rv && !/^\d+$/.test(rv)) throw badRequest(`invalid resource version: ${rv}`);
  // RV n with a limit (or match=Exact) reads exactly at n; otherwise the latest state is "not older than" anything asked.
  const exact = rv && rv !== '0' && (match === 'Exact' || (limit !== undefined && match !== 'NotOlderThan')) ? Number(rv) : undefined;
  const continueToken = q.get('continue') ?? undefined;
  const filtered = q.has('labelSelector') || q.has('fieldSelector');
  const result = await ctx.store.list(r, ns, { ...(filtered ? { filter: selector } : {}), ...(limit ? { limit } : {}), ...(continueToken ? { continueToken } : {}), ...(exact ? { exactRevision: exact } : {}) });
  const metadata: JsonObject = { resourceVersion: String(result.revision) };
  if (result.continueToken) metadata.continue = result.continueToken;
  if (result.remainingItemCount !== undefined) metadata.remainingItemCount = result.remainingItemCount;
  // Items of a typed list carry no kind/apiVersion, as the apiserver's JSON.
  const items = result.items.map(({ kind: _k, apiVersion: _a, ...rest }) => rest);
  return { kind: `${r.kind}List`, apiVersion: apiVersionOf(r), metadata, items };
}

async function watch(ctx: HandlerContext, call: Call, r: ResourceDef, ns: string | undefined, selector: Selector): Promise<void> {
  const q = call.url.searchParams;
  const name = call.info.name;
  const timeout = q.get('timeoutSeconds');
  await serveWatch(ctx, call.res, {
    r, namespace: ns,
    selector: name ? (o) => metaOf(o).name === name && selector(o) : selector,
    resourceVersion: q.get('resourceVersion') ?? undefined,
    allowBookmarks: q.get('allowWatchBookmarks') === 'true',
    sendInitialEvents: q.get('sendInitialEvents') === 'true',
    timeoutMs: timeout ? Number(timeout) * 1000 : ctx.defaultWatchTimeoutMs(),
    bookmarkIntervalMs: ctx.bookmarkIntervalMs,
  });
}

async function create(ctx: HandlerContext, t: WriteTarget, call: Call): Promise<void> {
  if (call.info.name !== undefined) throw methodNotAllowed();
  requireJson(call.contentType);
  const obj = prepareCreate(t, parseBody(call.body));
  if (t.r.namespaced && t.namespace) {
    const namespaces = findResource('', 'v1', 'namespaces')!;
    await ctx.store.get(namespaces, undefined, t.namespace).catch((err: unknown) => {
      throw err instanceof ApiError && err.code === 404 ? notFound({ resource: 'namespaces', name: t.namespace }) : err;
    });
  }
  reply(call.res, 201, await ctx.store.create(t.r, t.namespace, obj));
}

async function update(ctx: HandlerContext, t: WriteTarget, name: string, body: JsonObject): Promise<JsonObject> {
  const requested = metaOf(body).resourceVersion;
  return ctx.store.guaranteedUpdate(t.r, t.namespace, name, (current) => {
    checkPrecondition(t.r, name, requested, str(metaOf(current).resourceVersion));
    return prepareUpdate(t, current, structuredClone(body));
  });
}

async function patch(ctx: HandlerContext, t: WriteTarget, name: string, call: Call): Promise<JsonObject> {
  const type = (call.contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (!(PATCH_TYPES as readonly string[]).includes(type)) throw unsupportedMediaType(PATCH_TYPES);
  return ctx.store.guaranteedUpdate(t.r, t.namespace, name, (current) => {
    const currentRV = str(metaOf(current).resourceVersion);
    const patched = applyPatch(type, current, call.body);
    // A patch applies to the latest object; only a resourceVersion the patch itself sets is a precondition.
    const rv = metaOf(patched).resourceVersion;
    if (rv !== undefined && rv !== null) checkPrecondition(t.r, name, rv, currentRV);
    metaOf(patched).resourceVersion = currentRV;
    return prepareUpdate(t, current, patched);
  });
}

async function remove(ctx: HandlerContext, r: ResourceDef, ns: string | undefined, name: string): Promise<JsonObject> {
  const last = await ctx.store.delete(r, ns, name);
  if (r.resource === 'pods') return last;
  const details: JsonObject = { name, ...(r.group ? { group: r.group } : {}), kind: r.resource };
  const uid = metaOf(last).uid;
  if (uid !== undefined) details.uid = uid;
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details };
}

async function removeAll(ctx: HandlerContext, r: ResourceDef, ns: string | undefined, selector: Selector, url: URL): Promise<JsonObject> {
  const listed = await list(ctx, r, ns, new URL(url.pathname, url), selector);
  const deleted: Json[] = [];
  for (const item of listed.items as JsonObject[]) {
    const meta = metaOf(item);
    try {
      deleted.push(await ctx.store.delete(r, typeof meta.namespace === 'string' ? meta.namespace : undefined, str(meta.name)));
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 404)) throw err;
    }
  }
  return { kind: `${r.kind}List`, apiVersion: apiVersionOf(r), metadata: { resourceVersion: String(await ctx.store.currentRevision()) }, items: deleted };
}
