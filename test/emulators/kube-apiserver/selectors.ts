// labelSelector and fieldSelector as the apiserver parses them. Field selectors
// only accept the labels each kind registers; others are a 400.
import { ApiError, type Json, type JsonObject } from './status.ts';

export type Selector = (obj: JsonObject) => boolean;

type Op = '=' | '!=' | 'in' | 'notin' | 'exists' | '!';
interface Requirement { key: string; op: Op; values: string[] }

/** Fields each kind lets a fieldSelector name, beyond metadata.name and metadata.namespace. */
const FIELD_LABELS: Record<string, readonly string[]> = {
  Pod: ['spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'spec.hostNetwork', 'status.phase', 'status.podIP', 'status.nominatedNodeName'],
  Event: ['involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid', 'involvedObject.apiVersion', 'involvedObject.resourceVersion', 'involvedObject.fieldPath', 'reason', 'reportingComponent', 'source', 'type'],
  Node: ['spec.unschedulable'],
  Secret: ['type'],
  Namespace: ['status.phase'],
};

function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth += 1;
    if (ch === ')') depth -= 1;
    if (ch === ',' && depth === 0) { parts.push(current); current = ''; } else current += ch;
  }
  if (current.trim()) parts.push(current);
  return parts.map((p) => p.trim()).filter(Boolean);
}

function parseRequirement(text: string, kind: 'label' | 'field'): Requirement {
  const set = /^(\S+)\s+(in|notin)\s+\((.*)\)$/.exec(text);
  if (set && kind === 'label') return { key: set[1]!, op: set[2] as Op, values: set[3]!.split(',').map((v) => v.trim()).filter(Boolean) };
  const cmp = /^([^!=\s]+)\s*(==|=|!=)\s*(.*)$/.exec(text);
  if (cmp) return { key: cmp[1]!, op: cmp[2] === '!=' ? '!=' : '=', values: [cmp[3]!.trim()] };
  if (kind === 'label' && /^!\s*\S+$/.test(text)) return { key: text.slice(1).trim(), op: '!', values: [] };
  if (kind === 'label' && /^\S+$/.test(text)) return { key: text, op: 'exists', values: [] };
  throw new ApiError({ code: 400, reason: 'BadRequest', message: `unable to parse requirement: ${kind === 'label' ? 'found' : 'invalid selector'} '${text}'` });
}

function matches(r: Requirement, value: string | undefined): boolean {
  switch (r.op) {
    case '=': return value === r.values[0];
    case '!=': return value !== r.values[0];
    case 'in': return value !== undefined && r.values.includes(value);
    case 'notin': return value === undefined || !r.values.includes(value);
    case 'exists': return value !== undefined;
    case '!': return value === undefined;
  }
}

export function labelSelector(text: string | null): Selector {
  if (!text) return () => true;
  const reqs = splitTopLevel(text).map((t) => parseRequirement(t, 'label'));
  return (obj) => {
    const labels = (obj.metadata as JsonObject | undefined)?.labels as Record<string, string> | undefined;
    return reqs.every((r) => matches(r, labels?.[r.key]));
  };
}

function fieldValue(obj: JsonObject, path: string): string {
  let cur: Json | undefined = obj;
  for (const part of path.split('.')) cur = cur && typeof cur === 'object' && !Array.isArray(cur) ? cur[part] : undefined;
  if (cur === undefined || cur === null) return path === 'spec.unschedulable' || path === 'spec.hostNetwork' ? 'false' : '';
  return typeof cur === 'object' ? JSON.stringify(cur) : String(cur);
}

export function fieldSelector(text: string | null, kind: string): Selector {
  if (!text) return () => true;
  const reqs = splitTopLevel(text).map((t) => parseRequirement(t, 'field'));
  const allowed = ['metadata.name', 'metadata.namespace', ...(FIELD_LABELS[kind] ?? [])];
  for (const r of reqs) {
    if (!allowed.includes(r.key)) {
      throw new ApiError({ code: 400, reason: 'BadRequest', message: `field label not supported: ${r.key}` });
    }
  }
  return (obj) => reqs.every((r) => matches(r, fieldValue(obj, r.key)));
}

export function bothSelectors(url: URL, kind: string): Selector {
  const labels = labelSelector(url.searchParams.get('labelSelector'));
  const fields = fieldSelector(url.searchParams.get('fieldSelector'), kind);
  return (obj) => labels(obj) && fields(obj);
}
