// What the apiserver's generic registry and the per-kind strategies do to an
// object on its way to storage: system fields on create, immutable fields and
// status/spec separation on update, generation bumps, preconditions, and the
// validation failures clients are known to trip on (names, MicroTime, RV).
import { randomUUID } from 'node:crypto';
import { apiVersionOf, type ResourceDef } from './resources.ts';
import { metaOf } from './store.ts';
import { badRequest, conflict, type FieldError, invalid, type Json, type JsonObject, str } from './status.ts';

export interface WriteTarget {
  readonly r: ResourceDef;
  readonly namespace?: string | undefined;
  readonly subresource?: string | undefined;
  readonly now: () => Date;
}

const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const MICRO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}(Z|[+-]\d\d:\d\d)$/;

/** Seconds precision, as metav1.Time serializes. */
export const rfc3339 = (d: Date): string => `${d.toISOString().slice(0, 19)}Z`;

function nameErrors(r: ResourceDef, name: string): FieldError[] {
  const quoted = JSON.stringify(name);
  if (r.group === 'rbac.authorization.k8s.io') {
    return /[/%]/.test(name) || name === '.' || name === '..'
      ? [{ field: 'metadata.name', reason: 'FieldValueInvalid', body: `Invalid value: ${quoted}: may not contain '/' or '%'` }] : [];
  }
  if (r.resource === 'namespaces') {
    return LABEL.test(name) && name.length <= 63 ? [] : [{ field: 'metadata.name', reason: 'FieldValueInvalid',
      body: `Invalid value: ${quoted}: a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')` }];
  }
  return SUBDOMAIN.test(name) && name.length <= 253 ? [] : [{ field: 'metadata.name', reason: 'FieldValueInvalid',
    body: `Invalid value: ${quoted}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')` }];
}

/** A body the decoder would refuse: MicroTime needs exactly six fractional digits (RFC3339Micro). */
export function checkDecodable(r: ResourceDef, obj: JsonObject): void {
  if (obj.apiVersion !== undefined && obj.apiVersion !== apiVersionOf(r)) {
    throw badRequest(`the API version in the data (${str(obj.apiVersion)}) does not match the expected API version (${apiVersionOf(r)})`);
  }
  if (obj.kind !== undefined && obj.kind !== r.kind) {
    throw badRequest(`the kind in the data (${str(obj.kind)}) does not match the expected kind (${r.kind})`);
  }
  for (const path of r.microTimeFields ?? []) {
    let v: Json | undefined = obj;
    for (const p of path) v = v && typeof v === 'object' && !Array.isArray(v) ? v[p] : undefined;
    if (typeof v !== 'string' || MICRO.test(v)) continue;
    const rest = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(.*)$/.exec(v)?.[1] ?? v;
    throw badRequest(`${r.kind} in version "${r.version}" cannot be handled as a ${r.kind}: parsing time "${v}" as "2006-01-02T15:04:05.000000Z07:00": cannot parse "${rest}" as ".000000"`);
  }
}

export function prepareCreate(t: WriteTarget, obj: JsonObject): JsonObject {
  checkDecodable(t.r, obj);
  const meta = metaOf(obj);
  obj.apiVersion = apiVersionOf(t.r);
  obj.kind = t.r.kind;
  if (t.r.namespaced) {
    if (meta.namespace !== undefined && meta.namespace !== '' && meta.namespace !== t.namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    meta.namespace = t.namespace ?? 'default';
  } else delete meta.namespace;
  if (!meta.name && typeof meta.generateName === 'string' && meta.generateName) {
    meta.name = `${meta.generateName}${Math.random().toString(36).slice(2, 7)}`;
  }
  const name = typeof meta.name === 'string' ? meta.name : '';
  const errors: FieldError[] = name
    ? nameErrors(t.r, name)
    : [{ field: 'metadata.name', reason: 'FieldValueRequired', body: 'Required value: name or generateName is required' }];
  if (errors.length > 0) throw invalid({ kind: t.r.kind, group: t.r.group, name, errors });
  meta.uid = randomUUID();
  meta.creationTimestamp = rfc3339(t.now());
  delete meta.resourceVersion;
  delete meta.deletionTimestamp;
  if (t.r.tracksGeneration) meta.generation = 1;
  else delete meta.generation;
  syncPodCIDRs(t.r, obj);
  dropEmptyMetadata(meta);
  return obj;
}

/**
 * The update precondition: a resourceVersion in the request must equal the
 * current one (409 otherwise); none at all is a 422 where the strategy forbids
 * unconditional updates (Lease).
 */
export function checkPrecondition(r: ResourceDef, name: string, requested: Json | undefined, current: string): void {
  if (requested === undefined || requested === '' || requested === null) {
    if (r.allowUnconditionalUpdate) return;
    throw invalid({ kind: r.kind, group: r.group, name, errors: [{ field: 'metadata.resourceVersion', reason: 'FieldValueInvalid', body: 'Invalid value: 0x0: must be specified for an update' }] });
  }
  if (str(requested) !== current) throw conflict({ group: r.group, resource: r.resource, name });
}

export function prepareUpdate(t: WriteTarget, current: JsonObject, next: JsonObject): JsonObject {
  checkDecodable(t.r, next);
  const oldMeta = metaOf(current);
  const meta = metaOf(next);
  next.apiVersion = apiVersionOf(t.r);
  next.kind = t.r.kind;
  if (meta.name !== oldMeta.name) throw badRequest(`the name of the object (${str(meta.name)}) does not match the name on the URL (${str(oldMeta.name)})`);
  if (meta.uid !== undefined && meta.uid !== '' && meta.uid !== oldMeta.uid) {
    throw invalid({ kind: t.r.kind, group: t.r.group, name: str(oldMeta.name), errors: [{ field: 'metadata.uid', reason: 'FieldValueInvalid', body: `Invalid value: ${JSON.stringify(meta.uid)}: field is immutable` }] });
  }
  for (const k of ['uid', 'creationTimestamp', 'namespace', 'deletionTimestamp'] as const) {
    if (oldMeta[k] === undefined) delete meta[k];
    else meta[k] = oldMeta[k];
  }
  separateStatus(t, current, next);
  if (t.r.tracksGeneration) {
    const changed = JSON.stringify(sortKeys(current.spec)) !== JSON.stringify(sortKeys(next.spec));
    meta.generation = Number(oldMeta.generation ?? 1) + (changed ? 1 : 0);
  }
  syncPodCIDRs(t.r, next);
  dropEmptyMetadata(meta);
  return next;
}

/** Go's omitempty: an emptied annotations/labels map or finalizers list is not serialized. */
function dropEmptyMetadata(meta: JsonObject): void {
  for (const k of ['annotations', 'labels', 'finalizers', 'ownerReferences']) {
    const v = meta[k];
    if (v === null || (Array.isArray(v) && v.length === 0) || (v && typeof v === 'object' && Object.keys(v).length === 0)) delete meta[k];
  }
}

/** Main endpoint keeps the stored status; /status keeps the stored spec (node status strategy: metadata changes stay). */
function separateStatus(t: WriteTarget, current: JsonObject, next: JsonObject): void {
  if (!t.r.hasStatus) return;
  const [keep, field] = t.subresource === 'status' ? ['spec', 'spec'] as const : ['status', 'status'] as const;
  if (current[keep] === undefined) delete next[field];
  else next[field] = structuredClone(current[keep]);
}

/** v1 conversion keeps podCIDR == podCIDRs[0] in both directions. */
function syncPodCIDRs(r: ResourceDef, obj: JsonObject): void {
  if (r.resource !== 'nodes') return;
  const spec = obj.spec;
  if (!spec || typeof spec !== 'object' || Array.isArray(spec)) return;
  const list = Array.isArray(spec.podCIDRs) ? spec.podCIDRs : [];
  if (typeof spec.podCIDR === 'string' && spec.podCIDR && list.length === 0) spec.podCIDRs = [spec.podCIDR];
  else if (list.length > 0 && !spec.podCIDR) spec.podCIDR = list[0]!;
}

function sortKeys(v: Json | undefined): Json | undefined {
  if (Array.isArray(v)) return v.map((x) => sortKeys(x) ?? null);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys(v[k]) ?? null]));
  return v;
}
