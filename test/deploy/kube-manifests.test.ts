// deploy/kubernetes/tartan.yaml applied with kubectl to the kube-apiserver
// emulator: every object lands as written, the agent's RBAC is flannel's
// ClusterRole exactly, and the ServiceAccounts can make the requests their
// daemons make and nothing else. Each rule is needed: the manifest with one rule
// taken out makes exactly the requests that rule grants fail with the
// apiserver's 403.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kubeHarness } from '../emulators/kube-apiserver/fixture.ts';
import { type Container, findObject, type KubeObject, MANIFEST, manifestObjects, podContainers } from './manifest.ts';
import {
  AGENT_ALLOWED, AGENT_DENIED, type ApiRequest, CONTROLLER_ALLOWED, CONTROLLER_DENIED, FIXTURES, forbiddenText, NAMESPACE, send,
} from './rbac-requests.ts';

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
const user = (sa: string): string => `system:serviceaccount:${NAMESPACE}:${sa}`;

const SERVER_SET = ['uid', 'resourceVersion', 'creationTimestamp', 'generation'];

/** What `kubectl get -o json` shows minus what the server adds (uid, RV, timestamps, status, apply's annotation). */
function asWritten(stored: KubeObject): KubeObject {
  const metadata = Object.fromEntries(Object.entries(stored.metadata).filter(([k]) => !SERVER_SET.includes(k)));
  const annotations = Object.entries((metadata.annotations ?? {}) as Record<string, string>).filter(([k]) => k !== LAST_APPLIED);
  if (annotations.length > 0) metadata.annotations = Object.fromEntries(annotations);
  else delete metadata.annotations;
  return { ...Object.fromEntries(Object.entries(stored).filter(([k]) => k !== 'status')), metadata } as KubeObject;
}

const resourceArg = (o: KubeObject): string => {
  const group = o.apiVersion.includes('/') ? `.${o.apiVersion.split('/')[0]}` : '';
  return `${o.kind.toLowerCase()}${group}/${o.metadata.name}`;
};

type Rule = { apiGroups: string[]; resources: string[]; verbs: string[] };
const rulesOf = (role: KubeObject): Rule[] => role.rules as Rule[];
const ruleKey = (role: KubeObject, rule: Rule): string => `${role.kind}/${role.metadata.name}: ${rule.resources.join(',')}`;

describe(`${MANIFEST} on the kube-apiserver emulator`, () => {
  const h = kubeHarness();
  let objects: KubeObject[] = [];
  const tokens = { agent: '', controller: '' };

  test('kubectl apply creates every object, in the documented order, and kubectl get shows each as written', async () => {
    const applied = await h.kubectl(['apply', '--validate=false', '-f', MANIFEST]);
    assert.equal(applied.code, 0, applied.stderr);
    objects = await manifestObjects(h);
    assert.deepEqual(objects.map((o) => `${o.kind}/${o.metadata.name}`), [
      'Namespace/tartan', 'ServiceAccount/tartan-agent', 'ServiceAccount/tartan-controller',
      'ClusterRole/tartan-agent', 'ClusterRoleBinding/tartan-agent', 'ClusterRole/tartan-controller', 'ClusterRoleBinding/tartan-controller',
      'Role/tartan-controller-election', 'RoleBinding/tartan-controller-election', 'ConfigMap/tartan-cfg',
      'DaemonSet/tartan-agent', 'Deployment/tartan-controller', 'PodDisruptionBudget/tartan-controller',
    ]);
    for (const o of objects) {
      const ns = o.metadata.namespace ? ['-n', o.metadata.namespace] : [];
      const got = await h.kubectl(['get', resourceArg(o), ...ns, '-o', 'json']);
      assert.equal(got.code, 0, got.stderr);
      assert.deepEqual(asWritten(JSON.parse(got.stdout) as KubeObject), asWritten(o), resourceArg(o));
    }
  });

  test("the agent's ClusterRole is flannel's exactly; the controller's is nodes, nodes/status and events; leases only in tartan", () => {
    const rule = (resources: string[], verbs: string[], apiGroups = ['']): Rule => ({ apiGroups, resources, verbs });
    assert.deepEqual(rulesOf(findObject(objects, 'ClusterRole', 'tartan-agent')),
      [rule(['pods'], ['get']), rule(['nodes'], ['get', 'list', 'watch']), rule(['nodes/status'], ['patch'])]);
    assert.deepEqual(rulesOf(findObject(objects, 'ClusterRole', 'tartan-controller')),
      [rule(['nodes'], ['get', 'list', 'watch']), rule(['nodes/status'], ['patch']), rule(['events'], ['create', 'patch'])]);
    const election = findObject(objects, 'Role', 'tartan-controller-election');
    assert.equal(election.metadata.namespace, NAMESPACE);
    assert.deepEqual(rulesOf(election), [rule(['leases'], ['get', 'create', 'update'], ['coordination.k8s.io'])]);
    for (const [kind, name, roleKind] of [['ClusterRoleBinding', 'tartan-agent', 'ClusterRole'], ['ClusterRoleBinding', 'tartan-controller', 'ClusterRole'], ['RoleBinding', 'tartan-controller-election', 'Role']] as const) {
      const b = findObject(objects, kind, name);
      const sa = name === 'tartan-agent' ? 'tartan-agent' : 'tartan-controller';
      assert.deepEqual(b.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: roleKind, name }, `${kind} ${name}`);
      assert.deepEqual(b.subjects, [{ kind: 'ServiceAccount', name: sa, namespace: NAMESPACE }], `${kind} ${name}`);
    }
  });

  test("the ConfigMap is kube-flannel's; the agent runs as kube-flannel-ds does; the controller: 2 replicas on 2 nodes, a PDB", () => {
    const data = findObject(objects, 'ConfigMap', 'tartan-cfg').data as Record<string, string>;
    assert.deepEqual(JSON.parse(data['cni-conf.json']!), {
      name: 'cbr0', cniVersion: '0.3.1',
      plugins: [{ type: 'flannel', delegate: { hairpinMode: true, isDefaultGateway: true } }, { type: 'portmap', capabilities: { portMappings: true } }],
    });
    assert.deepEqual(JSON.parse(data['net-conf.json']!), { Network: '10.244.0.0/16', Backend: { Type: 'vxlan' } });
    assert.equal((findObject(objects, 'Namespace', NAMESPACE).metadata.labels as Record<string, string>)['pod-security.kubernetes.io/enforce'], 'privileged');

    const ds = findObject(objects, 'DaemonSet', 'tartan-agent');
    const pod = (ds.spec as { template: { spec: Record<string, unknown> } }).template.spec;
    assert.equal(pod.hostNetwork, true);
    assert.equal(pod.priorityClassName, 'system-node-critical');
    assert.equal(pod.serviceAccountName, 'tartan-agent');
    assert.deepEqual(pod.tolerations, [{ operator: 'Exists', effect: 'NoSchedule' }, { operator: 'Exists', effect: 'NoExecute' }]);
    const { init: [install], main: [agent] } = podContainers(ds);
    assert.deepEqual(install?.args, ['install-cni', '--cni-bin-dir', '/opt/cni/bin', '--cni-conf-dir', '/etc/cni/net.d', '--cni-conf', '/etc/kube-flannel/cni-conf.json']);
    assert.deepEqual(agent?.args, ['agent', '--kube-subnet-mgr', '--ip-masq', '--healthz-port=8081', '--net-config-path=/etc/kube-flannel/net-conf.json']);
    assert.deepEqual(agent?.env?.slice(0, 2), ['name', 'namespace'].map((f) => ({ name: `POD_${f.toUpperCase()}`, valueFrom: { fieldRef: { fieldPath: `metadata.${f}` } } })));
    assert.deepEqual([agent?.livenessProbe?.httpGet, agent?.readinessProbe?.httpGet], [{ path: '/healthz', port: 8081 }, { path: '/readyz', port: 8081 }]);
    assert.deepEqual(agent?.securityContext, { privileged: false, capabilities: { add: ['NET_ADMIN', 'NET_RAW'] } });
    const hostPaths = Object.fromEntries((pod.volumes as { name: string; hostPath?: { path: string } }[]).map((v) => [v.name, v.hostPath?.path]));
    const mounts = (c: Container | undefined): Record<string, string | undefined> => Object.fromEntries((c?.volumeMounts ?? []).map((m) => [m.mountPath, hostPaths[m.name] ?? m.name]));
    assert.deepEqual(mounts(install), { '/opt/cni/bin': '/opt/cni/bin', '/etc/cni/net.d': '/etc/cni/net.d', '/etc/kube-flannel/': 'tartan-cfg' });
    assert.deepEqual(mounts(agent), { '/run/flannel': '/run/flannel', '/etc/kube-flannel/': 'tartan-cfg', '/run/xtables.lock': '/run/xtables.lock' });

    const deploy = findObject(objects, 'Deployment', 'tartan-controller');
    const spec = deploy.spec as { replicas: number; template: { metadata: { labels: Record<string, string> }; spec: { serviceAccountName: string; affinity: { podAntiAffinity: unknown } } } };
    assert.equal(spec.replicas, 2);
    assert.equal(spec.template.spec.serviceAccountName, 'tartan-controller');
    assert.deepEqual(spec.template.spec.affinity.podAntiAffinity, {
      requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: spec.template.metadata.labels }, topologyKey: 'kubernetes.io/hostname' }],
    });
    const [controller] = podContainers(deploy).main;
    const port = Number(controller?.args?.find((a) => a.startsWith('--metrics-port='))?.split('=')[1]);
    assert.ok(controller?.args?.includes('--kube-subnet-mgr') && controller.args.includes('--leader-elect-resource-namespace=$(POD_NAMESPACE)'), String(controller?.args));
    assert.deepEqual([controller?.livenessProbe?.httpGet, controller?.readinessProbe?.httpGet], [{ path: '/healthz', port }, { path: '/readyz', port }]);
    assert.deepEqual(controller?.env?.find((e) => (e as { name: string }).name === 'NODE_NAME'), { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }, 'the heartbeat node without get pods');
    assert.deepEqual(controller?.envFrom, [{ secretRef: { name: 'tartan-cloud-credentials', optional: true } }]);
    assert.deepEqual(findObject(objects, 'PodDisruptionBudget', 'tartan-controller').spec, { minAvailable: 1, selector: { matchLabels: spec.template.metadata.labels } });
  });

  test('setup: the node, the agent pod, the lease and an event the requests name; ServiceAccount tokens', async () => {
    for (const f of FIXTURES) assert.equal((await h.raw('POST', f.path, { body: f.body })).status, 201, f.path);
    tokens.agent = h.api.admin.serviceAccountToken(NAMESPACE, 'tartan-agent');
    tokens.controller = h.api.admin.serviceAccountToken(NAMESPACE, 'tartan-controller');
  });

  /** Sends each request; answers the names of those that got a 403 (checking its text) and fails on any other error. */
  async function denied(requests: readonly ApiRequest[], sa: 'agent' | 'controller'): Promise<string[]> {
    const names: string[] = [];
    for (const r of requests) {
      const res = await send(h, r, tokens[sa]);
      if (res.status === 403) {
        assert.equal(res.json<{ message: string }>().message, forbiddenText(user(`tartan-${sa}`), r), r.name);
        names.push(r.name);
      } else {
        assert.ok(res.status >= 200 && res.status < 300, `${sa}: ${r.name}: ${res.status} ${res.text}`);
      }
    }
    return names;
  }

  test("the agent's ServiceAccount: every request flanneld makes passes; the others get the apiserver's 403", async () => {
    assert.deepEqual(await denied(AGENT_ALLOWED, 'agent'), []);
    assert.deepEqual(await denied(AGENT_DENIED, 'agent'), AGENT_DENIED.map((r) => r.name));
  });

  test("the controller's ServiceAccount: nodes, node status, events in default, leases in tartan pass; the others get the 403", async () => {
    assert.deepEqual(await denied(CONTROLLER_ALLOWED, 'controller'), []);
    assert.deepEqual(await denied(CONTROLLER_DENIED, 'controller'), CONTROLLER_DENIED.map((r) => r.name));
  });

  test('each rule is needed: without it exactly the requests it grants are denied', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tartan-rbac-'));
    try {
      const roles = [['ClusterRole', 'tartan-agent'], ['ClusterRole', 'tartan-controller'], ['Role', 'tartan-controller-election']] as const;
      const allowed = [...AGENT_ALLOWED, ...CONTROLLER_ALLOWED];
      const keys: string[] = [];
      for (const [kind, name] of roles) {
        const role = findObject(objects, kind, name);
        const sa = name === 'tartan-agent' ? 'agent' : 'controller';
        for (const [i, rule] of rulesOf(role).entries()) {
          const key = ruleKey(role, rule);
          keys.push(key);
          const file = join(dir, `${name}-${i}.json`);
          writeFileSync(file, JSON.stringify({ ...role, rules: rulesOf(role).filter((_, j) => j !== i) }));
          const cut = await h.kubectl(['apply', '--validate=false', '-f', file]);
          assert.equal(cut.code, 0, cut.stderr);
          const requests = sa === 'agent' ? AGENT_ALLOWED : CONTROLLER_ALLOWED;
          assert.deepEqual(await denied(requests, sa), requests.filter((r) => r.rule === key).map((r) => r.name), `without ${key}`);
          writeFileSync(file, JSON.stringify(role));
          const restored = await h.kubectl(['apply', '--validate=false', '-f', file]);
          assert.equal(restored.code, 0, restored.stderr);
        }
      }
      assert.deepEqual(keys.toSorted(), [...new Set(allowed.map((r) => r.rule))].toSorted(), 'every rule grants some request, every request names a rule');
      assert.deepEqual(await denied(AGENT_ALLOWED, 'agent'), [], 'the agent is whole again');
      assert.deepEqual(await denied(CONTROLLER_ALLOWED, 'controller'), [], 'the controller is whole again');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
