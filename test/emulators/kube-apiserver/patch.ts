// PATCH bodies by content type, as apiserver pkg/endpoints/handlers/patch.go:
// strategic merge, JSON merge (RFC 7386), JSON patch (RFC 6902); anything else
// (server-side apply included: the emulator has no field manager) is a 415.
import { ApiError, badRequest, type Json, type JsonObject, unsupportedMediaType } from './status.ts';
import { strategicMerge } from './strategic.ts';

export const PATCH_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json'] as const;

const isObject = (v: Json | undefined): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

export function applyPatch(contentType: string | undefined, original: JsonObject, body: string): JsonObject {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (!(PATCH_TYPES as readonly string[]).includes(type)) throw unsupportedMediaType(PATCH_TYPES);
  let parsed: Json;
  try {
    parsed = JSON.parse(body) as Json;
  } catch (err) {
    throw badRequest(`error decoding patch: ${(err as Error).message}`);
  }
  if (type === 'application/json-patch+json') return applyJsonPatch(original, parsed);
  if (!isObject(parsed)) throw badRequest('json: cannot unmarshal array into Go value of type map[string]interface {}');
  return type === 'application/merge-patch+json' ? mergePatch(original, parsed) as JsonObject : strategicMerge(original, parsed);
}

/** RFC 7386: objects merge recursively, null deletes, anything else replaces. */
export function mergePatch(target: Json | undefined, patch: Json): Json {
  if (!isObject(patch)) return patch;
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

interface Operation { op: string; path: string; from?: string; value?: Json }

function decodeOps(patch: Json): Operation[] {
  if (!Array.isArray(patch)) throw badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  return patch.map((p) => {
    if (!isObject(p) || typeof p.op !== 'string' || typeof p.path !== 'string') throw badRequest('Unexpected kind: invalid operation');
    return { op: p.op, path: p.path, ...(typeof p.from === 'string' ? { from: p.from } : {}), ...('value' in p ? { value: p.value! } : {}) };
  });
}

// A failed operation is a 422 with evanphx/json-patch's error text.
const failed = (message: string): ApiError => new ApiError({ code: 422, reason: 'Invalid', message });

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw failed(`invalid JSON pointer: ${path}`);
  return path.slice(1).split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parentOf(doc: Json, parts: readonly string[], path: string): { parent: JsonObject | Json[]; last: string } {
  let cur: Json = doc;
  for (const part of parts.slice(0, -1)) {
    const next: Json | undefined = Array.isArray(cur) ? cur[Number(part)] : isObject(cur) ? cur[part] : undefined;
    if (next === undefined || next === null || typeof next !== 'object') throw failed(`doc is missing path: "${path}": missing value`);
    cur = next;
  }
  if (typeof cur !== 'object' || cur === null) throw failed(`doc is missing path: "${path}": missing value`);
  return { parent: cur, last: parts[parts.length - 1] ?? '' };
}

function getAt(doc: Json, path: string): Json {
  const parts = pointer(path);
  if (parts.length === 0) return doc;
  const { parent, last } = parentOf(doc, parts, path);
  const value = Array.isArray(parent) ? parent[Number(last)] : parent[last];
  if (value === undefined) throw failed(`doc is missing path: "${path}": missing value`);
  return value;
}

function removeAt(doc: Json, path: string): void {
  const { parent, last } = parentOf(doc, pointer(path), path);
  if (Array.isArray(parent)) {
    const i = Number(last);
    if (!Number.isInteger(i) || i < 0 || i >= parent.length) throw failed(`Unable to remove nonexistent key: ${last}: missing value`);
    parent.splice(i, 1);
  } else {
    if (!(last in parent)) throw failed(`Unable to remove nonexistent key: ${last}: missing value`);
    delete parent[last];
  }
}

function addAt(doc: Json, path: string, value: Json, replace: boolean): void {
  const { parent, last } = parentOf(doc, pointer(path), path);
  if (Array.isArray(parent)) {
    const i = last === '-' ? parent.length : Number(last);
    if (!Number.isInteger(i) || i < 0 || i > parent.length || (replace && i >= parent.length)) throw failed(`add operation does not apply: doc is missing path: "${path}": missing value`);
    parent.splice(i, replace ? 1 : 0, value);
  } else {
    if (replace && !(last in parent)) throw failed(`replace operation does not apply: doc is missing key: ${path}: missing value`);
    parent[last] = value;
  }
}

export function applyJsonPatch(original: JsonObject, patch: Json): JsonObject {
  const doc = structuredClone(original) as Json;
  for (const op of decodeOps(patch)) {
    const value = op.value === undefined ? null : structuredClone(op.value);
    switch (op.op) {
      case 'add': addAt(doc, op.path, value, false); break;
      case 'replace': addAt(doc, op.path, value, true); break;
      case 'remove': removeAt(doc, op.path); break;
      case 'move': { const v = getAt(doc, op.from ?? ''); removeAt(doc, op.from ?? ''); addAt(doc, op.path, v, false); break; }
      case 'copy': addAt(doc, op.path, structuredClone(getAt(doc, op.from ?? '')), false); break;
      case 'test':
        if (JSON.stringify(canonical(getAt(doc, op.path))) !== JSON.stringify(canonical(value))) throw failed(`testing value ${op.path} failed: test failed`);
        break;
      default: throw badRequest(`Unexpected kind: ${op.op}`);
    }
  }
  if (!isObject(doc)) throw failed('the patch did not produce an object');
  return doc;
}

function canonical(v: Json): Json {
  if (Array.isArray(v)) return v.map(canonical);
  if (isObject(v)) return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical(v[k]!)]));
  return v;
}
