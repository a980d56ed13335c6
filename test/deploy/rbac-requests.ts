// The API requests tartan's two ServiceAccounts make (and some they must not),
// each with what RBAC checks for it, so a test can send it with a token and
// predict the apiserver's 403 text. `rule` names the manifest rule that grants an
// allowed request: "<Kind>/<name>: <resources>".
import type { Harness, RawResponse } from '../emulators/kube-apiserver/fixture.ts';

export const NAMESPACE = 'tartan';
export const NODE = 'node-a';
export const AGENT_POD = 'tartan-agent-x7k2p';
export const LEASE = 'tartan-controller';
export const EVENT = 'node-a.route-failed';

const SMP = 'application/strategic-merge-patch+json';
const LEASES = '/apis/coordination.k8s.io/v1/namespaces';
const COORD = 'coordination.k8s.io';

export interface ApiRequest {
  readonly name: string;
  readonly method: string;
  readonly path: string;
  readonly contentType?: string;
  readonly body?: (h: Harness) => unknown;
  /** What RBAC authorizes: verb, resource (with /subresource), API group, namespace, object name. */
  readonly verb: string;
  readonly resource: string;
  readonly group: string;
  readonly namespace?: string;
  readonly objName?: string;
  /** For an allowed request: the one manifest rule that grants it. */
  readonly rule?: string;
}

let serial = 0;
const unique = (base: string): string => `${base}-${++serial}`;
const micro = (): string => new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

const nodeGet: Omit<ApiRequest, 'name' | 'rule'> = { method: 'GET', path: `/api/v1/nodes/${NODE}`, verb: 'get', resource: 'nodes', group: '', objName: NODE };
const nodeList: Omit<ApiRequest, 'name' | 'rule'> = { method: 'GET', path: '/api/v1/nodes', verb: 'list', resource: 'nodes', group: '' };
const nodeWatch: Omit<ApiRequest, 'name' | 'rule'> = { method: 'GET', path: '/api/v1/nodes?watch=true&timeoutSeconds=1', verb: 'watch', resource: 'nodes', group: '' };
const statusPatch = (body: unknown): Omit<ApiRequest, 'name' | 'rule'> =>
  ({ method: 'PATCH', path: `/api/v1/nodes/${NODE}/status`, contentType: SMP, body: () => body, verb: 'patch', resource: 'nodes/status', group: '', objName: NODE });
const leaseGet = (ns: string): Omit<ApiRequest, 'name' | 'rule'> =>
  ({ method: 'GET', path: `${LEASES}/${ns}/leases/${LEASE}`, verb: 'get', resource: 'leases', group: COORD, namespace: ns, objName: LEASE });
const leaseCreate = (ns: string): Omit<ApiRequest, 'name' | 'rule'> => ({
  method: 'POST', path: `${LEASES}/${ns}/leases`, verb: 'create', resource: 'leases', group: COORD, namespace: ns,
  body: () => ({ apiVersion: `${COORD}/v1`, kind: 'Lease', metadata: { name: unique('tartan-election') }, spec: { holderIdentity: 'a', leaseDurationSeconds: 15, acquireTime: micro(), renewTime: micro() } }),
});
const eventCreate: Omit<ApiRequest, 'name' | 'rule'> = {
  method: 'POST', path: '/api/v1/namespaces/default/events', verb: 'create', resource: 'events', group: '', namespace: 'default',
  body: () => ({
    metadata: { name: unique(`${NODE}.route`) }, involvedObject: { kind: 'Node', name: NODE }, type: 'Warning', reason: 'FailedToCreateRoute',
    message: 'route 10.244.1.0/24 not created', source: { component: 'tartan-controller' }, count: 1,
  }),
};

/** flanneld's own requests: GET its pod → spec.nodeName, the node informer, the status patches. */
export const AGENT_ALLOWED: readonly ApiRequest[] = [
  { name: 'get own pod', method: 'GET', path: `/api/v1/namespaces/${NAMESPACE}/pods/${AGENT_POD}`, verb: 'get', resource: 'pods', group: '', namespace: NAMESPACE, objName: AGENT_POD, rule: 'ClusterRole/tartan-agent: pods' },
  { name: 'get node', ...nodeGet, rule: 'ClusterRole/tartan-agent: nodes' },
  { name: 'list nodes', ...nodeList, rule: 'ClusterRole/tartan-agent: nodes' },
  { name: 'watch nodes', ...nodeWatch, rule: 'ClusterRole/tartan-agent: nodes' },
  { name: 'patch nodes/status annotations', ...statusPatch({ metadata: { annotations: { 'flannel.alpha.coreos.com/kube-subnet-manager': 'true', 'flannel.alpha.coreos.com/backend-type': 'vxlan' } } }), rule: 'ClusterRole/tartan-agent: nodes/status' },
  {
    name: 'patch nodes/status NetworkUnavailable', rule: 'ClusterRole/tartan-agent: nodes/status',
    ...statusPatch({ status: { conditions: [{ type: 'NetworkUnavailable', status: 'False', reason: 'FlannelIsUp', message: 'Flannel is running on this node' }] } }),
  },
];

export const AGENT_DENIED: readonly ApiRequest[] = [
  { name: 'patch node', method: 'PATCH', path: `/api/v1/nodes/${NODE}`, contentType: SMP, body: () => ({ metadata: { labels: { a: 'b' } } }), verb: 'patch', resource: 'nodes', group: '', objName: NODE },
  {
    name: 'update node', method: 'PUT', path: `/api/v1/nodes/${NODE}`, verb: 'update', resource: 'nodes', group: '', objName: NODE,
    body: () => ({ apiVersion: 'v1', kind: 'Node', metadata: { name: NODE } }),
  },
  { name: 'list pods', method: 'GET', path: `/api/v1/namespaces/${NAMESPACE}/pods`, verb: 'list', resource: 'pods', group: '', namespace: NAMESPACE },
  { name: 'get secret', method: 'GET', path: `/api/v1/namespaces/${NAMESPACE}/secrets/tartan-cloud-credentials`, verb: 'get', resource: 'secrets', group: '', namespace: NAMESPACE, objName: 'tartan-cloud-credentials' },
  { name: 'create lease', ...leaseCreate(NAMESPACE) },
  { name: 'create event', ...eventCreate },
];

async function renewedLease(h: Harness): Promise<unknown> {
  const current = (await h.raw('GET', `${LEASES}/${NAMESPACE}/leases/${LEASE}`)).json<{ metadata: Record<string, unknown>; spec: Record<string, unknown> }>();
  return { ...current, spec: { ...current.spec, holderIdentity: unique('tartan-controller-pod'), renewTime: micro() } };
}

/** The controller's: the node informer, route status, events for failed routes, leader election. */
export const CONTROLLER_ALLOWED: readonly ApiRequest[] = [
  { name: 'get node', ...nodeGet, rule: 'ClusterRole/tartan-controller: nodes' },
  { name: 'list nodes', ...nodeList, rule: 'ClusterRole/tartan-controller: nodes' },
  { name: 'watch nodes', ...nodeWatch, rule: 'ClusterRole/tartan-controller: nodes' },
  { name: 'patch nodes/status route status', ...statusPatch({ metadata: { annotations: { 'tartan.io/route-status': '{"state":"programmed"}' } } }), rule: 'ClusterRole/tartan-controller: nodes/status' },
  { name: 'create event in default', ...eventCreate, rule: 'ClusterRole/tartan-controller: events' },
  {
    name: 'patch event in default', method: 'PATCH', path: `/api/v1/namespaces/default/events/${EVENT}`, contentType: SMP, body: () => ({ count: 2 }),
    verb: 'patch', resource: 'events', group: '', namespace: 'default', objName: EVENT, rule: 'ClusterRole/tartan-controller: events',
  },
  { name: 'get lease in tartan', ...leaseGet(NAMESPACE), rule: 'Role/tartan-controller-election: leases' },
  { name: 'create lease in tartan', ...leaseCreate(NAMESPACE), rule: 'Role/tartan-controller-election: leases' },
  {
    name: 'update lease in tartan', method: 'PUT', path: `${LEASES}/${NAMESPACE}/leases/${LEASE}`, body: renewedLease,
    verb: 'update', resource: 'leases', group: COORD, namespace: NAMESPACE, objName: LEASE, rule: 'Role/tartan-controller-election: leases',
  },
];

export const CONTROLLER_DENIED: readonly ApiRequest[] = [
  { name: 'get lease in kube-system', ...leaseGet('kube-system') },
  { name: 'create lease in kube-system', ...leaseCreate('kube-system') },
  {
    name: 'delete lease in tartan', method: 'DELETE', path: `${LEASES}/${NAMESPACE}/leases/${LEASE}`,
    verb: 'delete', resource: 'leases', group: COORD, namespace: NAMESPACE, objName: LEASE,
  },
  { name: 'get pod (its node comes from NODE_NAME)', method: 'GET', path: `/api/v1/namespaces/${NAMESPACE}/pods/${AGENT_POD}`, verb: 'get', resource: 'pods', group: '', namespace: NAMESPACE, objName: AGENT_POD },
  { name: 'delete node', method: 'DELETE', path: `/api/v1/nodes/${NODE}`, verb: 'delete', resource: 'nodes', group: '', objName: NODE },
  { name: 'get secret', method: 'GET', path: `/api/v1/namespaces/${NAMESPACE}/secrets/tartan-cloud-credentials`, verb: 'get', resource: 'secrets', group: '', namespace: NAMESPACE, objName: 'tartan-cloud-credentials' },
  { name: 'patch node', method: 'PATCH', path: `/api/v1/nodes/${NODE}`, contentType: SMP, body: () => ({ metadata: { labels: { a: 'b' } } }), verb: 'patch', resource: 'nodes', group: '', objName: NODE },
];

/** The objects the requests above refer to, made as the admin. */
export const FIXTURES: readonly { path: string; body: unknown }[] = [
  { path: '/api/v1/nodes', body: { metadata: { name: NODE }, spec: { podCIDR: '10.244.1.0/24' } } },
  { path: `/api/v1/namespaces/${NAMESPACE}/pods`, body: { metadata: { name: AGENT_POD }, spec: { nodeName: NODE, containers: [{ name: 'agent', image: 'tartan' }] } } },
  { path: `${LEASES}/${NAMESPACE}/leases`, body: { metadata: { name: LEASE }, spec: { holderIdentity: 'x', leaseDurationSeconds: 15, renewTime: micro() } } },
  { path: '/api/v1/namespaces/default/events', body: { metadata: { name: EVENT }, involvedObject: { kind: 'Node', name: NODE }, reason: 'FailedToCreateRoute', count: 1 } },
];

export const send = async (h: Harness, r: ApiRequest, token: string): Promise<RawResponse> =>
  h.raw(r.method, r.path, { token, ...(r.body ? { body: await r.body(h) } : {}), ...(r.contentType ? { contentType: r.contentType } : {}) });

/** The apiserver's 403 message for `r` by `user`. */
export function forbiddenText(user: string, r: Pick<ApiRequest, 'verb' | 'resource' | 'group' | 'namespace' | 'objName'>): string {
  const [main] = r.resource.split('/');
  const qualified = r.group ? `${main}.${r.group}` : main;
  const scope = r.namespace ? `in the namespace "${r.namespace}"` : 'at the cluster scope';
  return `${qualified}${r.objName ? ` "${r.objName}"` : ''} is forbidden: User "${user}" cannot ${r.verb} resource "${r.resource}" in API group "${r.group}" ${scope}`;
}
