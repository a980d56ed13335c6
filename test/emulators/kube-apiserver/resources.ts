// The resources served: what discovery lists, how each is keyed in etcd, and
// the few strategy differences the apiserver has between them.

export interface ResourceDef {
  readonly group: string;
  readonly version: string;
  /** Plural, as in URLs and RBAC rules. */
  readonly resource: string;
  readonly kind: string;
  readonly singular: string;
  readonly namespaced: boolean;
  readonly shortNames?: readonly string[];
  /** Key segment under the registry prefix when it differs from the plural (nodes live under `minions`). */
  readonly storageName?: string;
  /** Has a `status` subresource: the main endpoint keeps the old status, /status keeps the old spec. */
  readonly hasStatus?: boolean;
  /** PUT without metadata.resourceVersion is allowed (Node: yes; Lease: no, 422). */
  readonly allowUnconditionalUpdate: boolean;
  /** metadata.generation is 1 at create and bumped when spec changes. */
  readonly tracksGeneration?: boolean;
  /** MicroTime fields (paths) that must carry exactly six fractional digits. */
  readonly microTimeFields?: readonly (readonly string[])[];
  readonly categories?: readonly string[];
}

const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'] as const;
export const RESOURCE_VERBS: readonly string[] = VERBS;

const core = (d: Omit<ResourceDef, 'group' | 'version' | 'allowUnconditionalUpdate'> & { allowUnconditionalUpdate?: boolean }): ResourceDef =>
  ({ group: '', version: 'v1', allowUnconditionalUpdate: true, ...d });
const grouped = (group: string, version: string, d: Omit<ResourceDef, 'group' | 'version' | 'allowUnconditionalUpdate'> & { allowUnconditionalUpdate?: boolean }): ResourceDef =>
  ({ group, version, allowUnconditionalUpdate: true, ...d });

export const RESOURCES: readonly ResourceDef[] = [
  core({ resource: 'nodes', kind: 'Node', singular: 'node', namespaced: false, shortNames: ['no'], storageName: 'minions', hasStatus: true }),
  core({ resource: 'namespaces', kind: 'Namespace', singular: 'namespace', namespaced: false, shortNames: ['ns'], hasStatus: true }),
  core({ resource: 'pods', kind: 'Pod', singular: 'pod', namespaced: true, shortNames: ['po'], hasStatus: true, categories: ['all'] }),
  core({ resource: 'events', kind: 'Event', singular: 'event', namespaced: true, shortNames: ['ev'], microTimeFields: [['eventTime']] }),
  core({ resource: 'serviceaccounts', kind: 'ServiceAccount', singular: 'serviceaccount', namespaced: true, shortNames: ['sa'] }),
  core({ resource: 'configmaps', kind: 'ConfigMap', singular: 'configmap', namespaced: true, shortNames: ['cm'] }),
  core({ resource: 'secrets', kind: 'Secret', singular: 'secret', namespaced: true }),
  core({ resource: 'services', kind: 'Service', singular: 'service', namespaced: true, shortNames: ['svc'], storageName: 'services/specs', hasStatus: true, categories: ['all'] }),
  core({ resource: 'endpoints', kind: 'Endpoints', singular: 'endpoints', namespaced: true, shortNames: ['ep'], storageName: 'services/endpoints' }),
  grouped('coordination.k8s.io', 'v1', {
    resource: 'leases', kind: 'Lease', singular: 'lease', namespaced: true, allowUnconditionalUpdate: false,
    microTimeFields: [['spec', 'acquireTime'], ['spec', 'renewTime']],
  }),
  grouped('apps', 'v1', { resource: 'daemonsets', kind: 'DaemonSet', singular: 'daemonset', namespaced: true, shortNames: ['ds'], hasStatus: true, tracksGeneration: true, categories: ['all'] }),
  grouped('apps', 'v1', { resource: 'deployments', kind: 'Deployment', singular: 'deployment', namespaced: true, shortNames: ['deploy'], hasStatus: true, tracksGeneration: true, categories: ['all'] }),
  grouped('apps', 'v1', { resource: 'statefulsets', kind: 'StatefulSet', singular: 'statefulset', namespaced: true, shortNames: ['sts'], hasStatus: true, tracksGeneration: true, categories: ['all'] }),
  grouped('policy', 'v1', { resource: 'poddisruptionbudgets', kind: 'PodDisruptionBudget', singular: 'poddisruptionbudget', namespaced: true, shortNames: ['pdb'], hasStatus: true, tracksGeneration: true }),
  grouped('networking.k8s.io', 'v1', { resource: 'networkpolicies', kind: 'NetworkPolicy', singular: 'networkpolicy', namespaced: true, shortNames: ['netpol'], tracksGeneration: true }),
  ...['roles', 'clusterroles', 'rolebindings', 'clusterrolebindings'].map((resource) => grouped('rbac.authorization.k8s.io', 'v1', {
    resource, kind: kindOfRbac(resource), singular: resource.slice(0, -1), namespaced: !resource.startsWith('cluster'),
  })),
];

function kindOfRbac(resource: string): string {
  const names: Record<string, string> = { roles: 'Role', clusterroles: 'ClusterRole', rolebindings: 'RoleBinding', clusterrolebindings: 'ClusterRoleBinding' };
  return names[resource] ?? resource;
}

export function findResource(group: string, version: string, resource: string): ResourceDef | undefined {
  return RESOURCES.find((r) => r.group === group && r.version === version && r.resource === resource);
}

export function apiVersionOf(r: ResourceDef): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

/** The groups other than core, in discovery order. */
export function groupVersions(): { group: string; version: string }[] {
  const seen = new Map<string, string>();
  for (const r of RESOURCES) if (r.group && !seen.has(r.group)) seen.set(r.group, r.version);
  return [...seen].map(([group, version]) => ({ group, version }));
}
