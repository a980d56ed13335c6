// The RBAC authorizer over the Roles, ClusterRoles and bindings stored in etcd
// (read on each request, so what a test applies is in force at once).
// system:masters bypasses it, as the apiserver's privileged-group authorizer.
import type { UserInfo } from './auth.ts';
import type { RequestInfo, ResourceRequest } from './request-info.ts';
import { findResource } from './resources.ts';
import type { ObjectStore } from './store.ts';
import { ApiError, forbidden, type Json, type JsonObject, str } from './status.ts';

const RBAC = 'rbac.authorization.k8s.io';
// system:discovery / system:basic-user (authenticated) and system:public-info-viewer (everyone).
const DISCOVERY = [/^\/api(\/.*)?$/, /^\/apis(\/.*)?$/, /^\/openapi\/.*$/, /^\/version\/?$/];
const PUBLIC = [/^\/version\/?$/, /^\/(healthz|livez|readyz)(\/.*)?$/];

interface Rule { verbs: string[]; apiGroups: string[]; resources: string[]; resourceNames: string[]; nonResourceURLs: string[] }

const strings = (v: Json | undefined): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

function rulesOf(role: JsonObject): Rule[] {
  const rules = Array.isArray(role.rules) ? role.rules : [];
  return rules.filter((r): r is JsonObject => typeof r === 'object' && r !== null && !Array.isArray(r)).map((r) => ({
    verbs: strings(r.verbs), apiGroups: strings(r.apiGroups), resources: strings(r.resources),
    resourceNames: strings(r.resourceNames), nonResourceURLs: strings(r.nonResourceURLs),
  }));
}

function subjectMatches(user: UserInfo, subject: JsonObject, bindingNamespace: string | undefined): boolean {
  const name = str(subject.name);
  switch (subject.kind) {
    case 'User': return name === user.name;
    case 'Group': return user.groups.includes(name);
    case 'ServiceAccount': return user.name === `system:serviceaccount:${str(subject.namespace ?? bindingNamespace)}:${name}`;
    default: return false;
  }
}

function ruleAllows(rule: Rule, info: RequestInfo): boolean {
  if (!rule.verbs.includes('*') && !rule.verbs.includes(info.verb)) return false;
  if (info.kind === 'nonresource') {
    return rule.nonResourceURLs.some((u) => u === '*' || u === info.path || (u.endsWith('*') && info.path.startsWith(u.slice(0, -1))));
  }
  if (!rule.apiGroups.includes('*') && !rule.apiGroups.includes(info.group)) return false;
  const combined = info.subresource ? `${info.resource}/${info.subresource}` : info.resource;
  const resourceOk = rule.resources.some((r) => r === '*' || r === combined || (info.subresource !== undefined && r === `*/${info.subresource}`));
  if (!resourceOk) return false;
  return rule.resourceNames.length === 0 || (info.name !== undefined && rule.resourceNames.includes(info.name));
}

export class RbacAuthorizer {
  private readonly store: ObjectStore;
  constructor(opts: { store: ObjectStore }) {
    this.store = opts.store;
  }

  /** Throws the apiserver's 403 unless some binding grants the request. */
  async authorize(user: UserInfo, info: RequestInfo): Promise<void> {
    if (user.groups.includes('system:masters')) return;
    if (info.kind === 'nonresource' && info.verb === 'get') {
      if (PUBLIC.some((p) => p.test(info.path))) return;
      if (user.groups.includes('system:authenticated') && DISCOVERY.some((p) => p.test(info.path))) return;
    }
    const errors: string[] = [];
    const namespace = info.kind === 'resource' ? info.namespace : undefined;
    for await (const rules of this.grants(user, namespace, errors)) {
      if (rules.some((rule) => ruleAllows(rule, info))) return;
    }
    const reason = errors.length === 0 ? '' : `: RBAC: ${errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`}`;
    throw denial(user, info, reason);
  }

  private async *grants(user: UserInfo, namespace: string | undefined, errors: string[]): AsyncGenerator<Rule[]> {
    const def = (resource: string) => findResource(RBAC, 'v1', resource)!;
    const bindings = (await this.store.list(def('clusterrolebindings'), undefined)).items.map((b) => ({ b, ns: undefined as string | undefined }));
    if (namespace) bindings.push(...(await this.store.list(def('rolebindings'), namespace)).items.map((b) => ({ b, ns: namespace })));
    for (const { b, ns } of bindings) {
      const subjects = Array.isArray(b.subjects) ? b.subjects : [];
      if (!subjects.some((s) => typeof s === 'object' && s !== null && !Array.isArray(s) && subjectMatches(user, s, ns))) continue;
      const ref = (b.roleRef ?? {}) as JsonObject;
      const cluster = ref.kind === 'ClusterRole';
      try {
        yield rulesOf(await this.store.get(def(cluster ? 'clusterroles' : 'roles'), cluster ? undefined : ns, str(ref.name)));
      } catch (err) {
        if (!(err instanceof ApiError) || err.code !== 404) throw err;
        errors.push(`${cluster ? 'clusterrole' : 'role'}.${RBAC} "${str(ref.name)}" not found`);
      }
    }
  }
}

function denial(user: UserInfo, info: RequestInfo, reason: string): ApiError {
  if (info.kind === 'nonresource') return forbidden({}, `User "${user.name}" cannot ${info.verb} path "${info.path}"${reason}`);
  const r: ResourceRequest = info;
  const resource = r.subresource ? `${r.resource}/${r.subresource}` : r.resource;
  const scope = r.namespace ? `in the namespace "${r.namespace}"` : 'at the cluster scope';
  return forbidden(
    { group: r.group, resource: r.resource, ...(r.name ? { name: r.name } : {}) },
    `User "${user.name}" cannot ${r.verb} resource "${resource}" in API group "${r.group}" ${scope}${reason}`,
  );
}
