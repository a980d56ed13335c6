// Objects on etcd the way the apiserver's etcd3 storage keeps them: one JSON
// value per key `<prefix>/<resource>/[<ns>/]<name>`, resourceVersion = the key's
// mod_revision (stored objects carry none), list RV = the header revision,
// updates are compare-and-swap on mod_revision (GuaranteedUpdate).
import type { Etcd3, IKeyValue, IRangeResponse } from 'etcd3';
import type { ResourceDef } from './resources.ts';
import { alreadyExists, ApiError, conflict, expired, internalError, notFound, type JsonObject } from './status.ts';

export interface ListOptions {
  readonly limit?: number;
  readonly continueToken?: string;
  /** Read at exactly this revision (RV n with a limit, or resourceVersionMatch=Exact). */
  readonly exactRevision?: number;
  readonly filter?: (obj: JsonObject) => boolean;
}

export interface ListResult {
  readonly items: JsonObject[];
  readonly revision: number;
  readonly continueToken?: string;
  readonly remainingItemCount?: number;
}

interface ContinueToken { v: string; rv: number; start: string }

export class ObjectStore {
  readonly client: Etcd3;
  readonly prefix: string;

  constructor(opts: { client: Etcd3; prefix: string }) {
    this.client = opts.client;
    this.prefix = opts.prefix.replace(/\/+$/, '');
  }

  /** The key prefix of a collection; all namespaces when `namespace` is empty. */
  collectionKey(r: ResourceDef, namespace?: string): string {
    const base = `${this.prefix}/${r.storageName ?? r.resource}/`;
    return r.namespaced && namespace ? `${base}${namespace}/` : base;
  }

  key(r: ResourceDef, namespace: string | undefined, name: string): string {
    return `${this.collectionKey(r, namespace)}${name}`;
  }

  async get(r: ResourceDef, namespace: string | undefined, name: string): Promise<JsonObject> {
    const res = await etcdCall(() => this.client.kv.range({ key: Buffer.from(this.key(r, namespace, name)) }));
    const kv = res.kvs[0];
    if (!kv) throw notFound({ group: r.group, resource: r.resource, name });
    return decode(kv);
  }

  async currentRevision(): Promise<number> {
    const res = await etcdCall(() => this.client.kv.range({ key: Buffer.from(`${this.prefix}/`), count_only: true }));
    return Number(res.header.revision);
  }

  async list(r: ResourceDef, namespace: string | undefined, opts: ListOptions = {}): Promise<ListResult> {
    const base = this.collectionKey(r, namespace);
    const token = opts.continueToken ? parseContinue(opts.continueToken) : undefined;
    let start = token ? base + token.start : base;
    let revision = token && token.rv > 0 ? token.rv : opts.exactRevision;
    const items: JsonObject[] = [];
    for (;;) {
      const want = opts.limit ? Math.max(opts.limit - items.length, 1) : 0;
      const res = await this.rangeAt({ start, end: prefixEnd(base), limit: want, revision, fromToken: token !== undefined, base });
      revision ??= Number(res.header.revision);
      let consumed = 0;
      for (const kv of res.kvs) {
        consumed += 1;
        const obj = decode(kv);
        if (!opts.filter || opts.filter(obj)) items.push(obj);
        start = `${kv.key.toString()}\u0000`;
        if (opts.limit && items.length >= opts.limit) break;
      }
      const more = consumed < res.kvs.length || res.more;
      if (!more) return { items, revision };
      if (opts.limit && items.length >= opts.limit) {
        const next = encodeContinue({ v: 'meta.k8s.io/v1', rv: revision, start: start.slice(base.length) });
        const remaining = opts.filter ? undefined : Number(res.count) - consumed;
        return { items, revision, continueToken: next, ...(remaining !== undefined ? { remainingItemCount: remaining } : {}) };
      }
    }
  }

  private async rangeAt(q: { start: string; end: Buffer; limit: number; revision: number | undefined; fromToken: boolean; base: string }): Promise<IRangeResponse> {
    try {
      return await this.client.kv.range({ key: Buffer.from(q.start), range_end: q.end, limit: q.limit, ...(q.revision ? { revision: q.revision } : {}) });
    } catch (err) {
      if (err instanceof Error && /future revision/.test(err.message)) {
        throw new ApiError({ code: 504, reason: 'Timeout', message: `Too large resource version: ${q.revision ?? 0}, current: ${await this.currentRevision()}`, causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }] });
      }
      if (!isCompacted(err)) throw toApiError(err);
      if (!q.fromToken) throw expired('The resourceVersion for the provided list is too old.');
      // As the apiserver: a fresh token at the current revision to continue inconsistently.
      const fresh = encodeContinue({ v: 'meta.k8s.io/v1', rv: -1, start: q.start.slice(q.base.length) });
      throw expired('The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.', fresh);
    }
  }

  async create(r: ResourceDef, namespace: string | undefined, obj: JsonObject): Promise<JsonObject> {
    const name = metaOf(obj).name as string;
    const key = Buffer.from(this.key(r, namespace, name));
    const res = await etcdCall(() => this.client.kv.txn({
      compare: [{ key, target: 'Create', result: 'Equal', create_revision: 0 }],
      success: [{ request_put: { key, value: Buffer.from(encode(obj)) } }],
    }));
    if (!res.succeeded) throw alreadyExists({ group: r.group, resource: r.resource, name });
    return withRV(obj, Number(res.header.revision));
  }

  /**
   * GuaranteedUpdate: read, let `update` compute the new object (it throws for a
   * failed precondition), write if mod_revision is unchanged, else retry. An
   * unchanged object is not written, so its resourceVersion stays.
   */
  async guaranteedUpdate(r: ResourceDef, namespace: string | undefined, name: string, update: (current: JsonObject) => JsonObject): Promise<JsonObject> {
    const key = Buffer.from(this.key(r, namespace, name));
    for (let attempt = 0; attempt < 100; attempt += 1) {
      const current = await this.get(r, namespace, name);
      const rv = Number(metaOf(current).resourceVersion);
      const next = update(structuredClone(current));
      if (canonical(next) === canonical(current)) return current;
      const res = await etcdCall(() => this.client.kv.txn({
        compare: [{ key, target: 'Mod', result: 'Equal', mod_revision: rv }],
        success: [{ request_put: { key, value: Buffer.from(encode(next)) } }],
      }));
      if (res.succeeded) return withRV(next, Number(res.header.revision));
    }
    throw conflict({ group: r.group, resource: r.resource, name });
  }

  /** Deletes and answers the last state, with the deletion revision as its resourceVersion. */
  async delete(r: ResourceDef, namespace: string | undefined, name: string): Promise<JsonObject> {
    const key = Buffer.from(this.key(r, namespace, name));
    const res = await etcdCall(() => this.client.kv.deleteRange({ key, prev_kv: true }));
    const prev = res.prev_kvs[0];
    if (!prev) throw notFound({ group: r.group, resource: r.resource, name });
    return withRV(JSON.parse(prev.value.toString()) as JsonObject, Number(res.header.revision));
  }

  /** Compacts etcd history up to `revision` (default: now); returns the revision compacted to. */
  async compact(revision?: number): Promise<number> {
    const rev = revision ?? (await this.currentRevision());
    await etcdCall(() => this.client.kv.compact({ revision: rev, physical: true }));
    return rev;
  }
}

export function metaOf(obj: JsonObject): JsonObject {
  const m = obj.metadata;
  if (m && typeof m === 'object' && !Array.isArray(m)) return m;
  const fresh: JsonObject = {};
  obj.metadata = fresh;
  return fresh;
}

export function decode(kv: IKeyValue): JsonObject {
  return withRV(JSON.parse(kv.value.toString()) as JsonObject, Number(kv.mod_revision));
}

export function withRV(obj: JsonObject, rv: number): JsonObject {
  metaOf(obj).resourceVersion = String(rv);
  return obj;
}

/** What etcd holds: the object without its resourceVersion (the apiserver clears it before writing). */
function encode(obj: JsonObject): string {
  const copy = structuredClone(obj);
  delete metaOf(copy).resourceVersion;
  return JSON.stringify(copy);
}

function canonical(obj: JsonObject): string {
  const sortKeys = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sortKeys);
    if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]));
    return v;
  };
  return encode(sortKeys(obj) as JsonObject);
}

export function prefixEnd(prefix: string): Buffer {
  const end = Buffer.from(prefix);
  end[end.length - 1] = end[end.length - 1]! + 1;
  return end;
}

function encodeContinue(t: ContinueToken): string {
  return Buffer.from(JSON.stringify(t)).toString('base64url');
}

function parseContinue(raw: string): ContinueToken {
  try {
    const t = JSON.parse(Buffer.from(raw, 'base64url').toString()) as Partial<ContinueToken>;
    if (t.v === 'meta.k8s.io/v1' && typeof t.rv === 'number' && typeof t.start === 'string') return { v: t.v, rv: t.rv, start: t.start };
  } catch { /* answered below */ }
  throw new ApiError({ code: 400, reason: 'BadRequest', message: 'continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)' });
}

export function isCompacted(err: unknown): boolean {
  return err instanceof Error && /compacted/.test(err.message);
}

function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  return internalError(err instanceof Error ? err.message : String(err));
}

async function etcdCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw toApiError(err);
  }
}
