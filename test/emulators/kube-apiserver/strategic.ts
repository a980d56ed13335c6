// Strategic merge patch for the built-in types the emulator serves: maps merge,
// `null` deletes a key, lists replace unless the field has a patch merge key in
// k8s.io/api (conditions and addresses by `type`, containers by `name`, …) or is
// a merge list of primitives (finalizers, podCIDRs). Directives handled:
// $patch (replace/delete/merge), $deleteFromPrimitiveList/<f>, $retainKeys;
// $setElementOrder/<f> is accepted and dropped (it only orders the result).
import { ApiError, type Json, type JsonObject } from './status.ts';

/** Field name (or `parent.field`) → merge key, from the patchMergeKey tags of k8s.io/api. */
const MERGE_KEYS: Record<string, string> = {
  conditions: 'type', addresses: 'type', containers: 'name', initContainers: 'name', ephemeralContainers: 'name',
  volumes: 'name', env: 'name', volumeMounts: 'mountPath', volumeDevices: 'devicePath', imagePullSecrets: 'name',
  hostAliases: 'ip', ownerReferences: 'uid', 'containers.ports': 'containerPort', 'initContainers.ports': 'containerPort',
  'spec.ports': 'port', secrets: 'name', topologySpreadConstraints: 'topologyKey', resourceClaims: 'name',
};
/** Lists of primitives with patchStrategy merge: the patch's values are added as a set. */
const PRIMITIVE_SETS = new Set(['finalizers', 'podCIDRs', 'podIPs.ip']);

const isObject = (v: Json | undefined): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

function mergeKeyFor(path: readonly string[]): string | undefined {
  const field = path[path.length - 1] ?? '';
  const parent = path[path.length - 2] ?? '';
  return MERGE_KEYS[`${parent}.${field}`] ?? MERGE_KEYS[field];
}

export function strategicMerge(original: JsonObject, patch: JsonObject): JsonObject {
  return mergeMap(original, patch, []);
}

function mergeMap(original: JsonObject, patch: JsonObject, path: readonly string[]): JsonObject {
  if (patch.$patch === 'replace') {
    return stripDirectives(patch);
  }
  if (patch.$patch === 'delete') return {};
  const out: JsonObject = { ...original };
  const retain = patch.$retainKeys;
  for (const [key, value] of Object.entries(patch)) {
    if (key === '$patch' || key === '$retainKeys' || key.startsWith('$setElementOrder/')) continue;
    if (key.startsWith('$deleteFromPrimitiveList/')) {
      const field = key.slice('$deleteFromPrimitiveList/'.length);
      const current = out[field];
      if (Array.isArray(current) && Array.isArray(value)) out[field] = current.filter((v) => !value.includes(v));
      continue;
    }
    if (value === null) { delete out[key]; continue; }
    out[key] = mergeValue(out[key], value, [...path, key]);
  }
  if (Array.isArray(retain)) for (const key of Object.keys(out)) if (!retain.includes(key)) delete out[key];
  return out;
}

function mergeValue(original: Json | undefined, patch: Json, path: readonly string[]): Json {
  if (isObject(patch)) return isObject(original) ? mergeMap(original, patch, path) : mergeMap({}, patch, path);
  if (!Array.isArray(patch)) return patch;
  const field = path[path.length - 1] ?? '';
  if (PRIMITIVE_SETS.has(field)) {
    const base = Array.isArray(original) ? original : [];
    return [...base, ...patch.filter((v) => !base.includes(v))];
  }
  const key = mergeKeyFor(path);
  if (!key) return patch.map((v) => (isObject(v) ? stripDirectives(v) : v));
  return mergeList(Array.isArray(original) ? original : [], patch, key, path);
}

function mergeList(original: readonly Json[], patch: readonly Json[], key: string, path: readonly string[]): Json[] {
  if (patch.some((p) => isObject(p) && p.$patch === 'replace')) {
    return patch.filter((p) => !(isObject(p) && p.$patch === 'replace')).map((p) => (isObject(p) ? stripDirectives(p) : p));
  }
  const out: Json[] = [...original];
  for (const item of patch) {
    if (!isObject(item)) throw new ApiError({ code: 400, reason: 'BadRequest', message: `unable to find api field "${key}" in a non-map list element of ${path.join('.')}` });
    if (!(key in item)) throw new ApiError({ code: 400, reason: 'BadRequest', message: `map: ${JSON.stringify(item)} does not contain declared merge key: ${key}` });
    const at = out.findIndex((o) => isObject(o) && o[key] === item[key]);
    if (item.$patch === 'delete') {
      if (at >= 0) out.splice(at, 1);
      continue;
    }
    if (at >= 0) out[at] = mergeMap(out[at] as JsonObject, item, path);
    else out.push(stripDirectives(item));
  }
  return out;
}

function stripDirectives(obj: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(obj)) {
    if (k.startsWith('$')) continue;
    out[k] = isObject(v) ? stripDirectives(v) : Array.isArray(v) ? v.map((x) => (isObject(x) ? stripDirectives(x) : x)) : v;
  }
  return out;
}
