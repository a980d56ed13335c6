// deploy/kubernetes/tartan.yaml's RBAC proven with the real daemons: the manifest
// applied with kubectl to the kube-apiserver emulator, `tartan agent` (in a lab
// network namespace) and `tartan controller` (against the EC2 emulator) run with their
// ServiceAccounts' tokens and do their whole job. Then each rule of the two
// ClusterRoles and the election Role is taken out in turn (kubectl apply of the role
// without it); the emulator reads RBAC on every request, so the running daemon's next
// request of that kind is refused, and the daemon says which request and why, in the
// apiserver's own words. With the rule back, the daemon recovers. What is granted
// beyond these rules is refused (test/deploy/kube-manifests.test.ts's request matrix).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROUTE_STATUS_ANNOTATION, annotationKeys, heartbeatAnnotation } from '../../src/lease/kube-node.ts';
import { electionScope } from '../../src/controller/election-scope.ts';
import { writeKubeconfig } from '../emulators/kube-apiserver/kubeconfig.ts';
import { sharedEtcd } from '../support/etcd.ts';
import { freePort } from '../support/ports.ts';
import { waitFor } from '../support/wait.ts';
import { type KubeLab, startKubeLab } from '../lab/kube-cluster.ts';
import { type Lab, createLab } from '../lab/lab.ts';
import { nsExec } from '../lab/netns.ts';
import { type KubeObject, MANIFEST, findObject, manifestObjects } from '../deploy/manifest.ts';
import { type Kubectl, applyRole, kubectlWith, ruleKey, rulesOf } from '../deploy/rbac-roles.ts';
import { type Daemon, refusal, startAgent, startKubeController, waitLogged } from '../deploy/rbac-processes.ts';
import { NAMESPACE } from '../deploy/rbac-requests.ts';
import { type AwsWorld, agentAttrs, startAwsWorld } from './controller-kit.ts';

const root = process.getuid?.() === 0;
const keys = annotationKeys();
const POD = 'tartan-agent-x7k2p';
const QUOTA = 2;
const AGENT_SA = 'tartan-agent';
const CONTROLLER_SA = 'tartan-controller';

interface NodeObject { metadata: { annotations?: Record<string, string> }; status?: { conditions?: { type: string; status: string; reason?: string }[] } }

describe(`${MANIFEST}'s RBAC with the real agent and controller`, { skip: root ? false : 'needs root for network namespaces' }, () => {
  let lab: Lab;
  let kube: KubeLab;
  let etcd: Awaited<ReturnType<typeof sharedEtcd>>;
  let world: AwsWorld;
  let kubectl: Kubectl;
  let objects: KubeObject[] = [];
  let agent: Daemon | undefined;
  let controller: Daemon | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'tartan-kube-rbac-'));
  const subnetFile = join(dir, 'subnet.env');
  const cut = new Set<string>();
  let restartAgent = (): Daemon => assert.fail('set up first');
  let restartController = (): Daemon => assert.fail('set up first');
  let metricsPort = 0;

  before(async () => {
    etcd = await sharedEtcd();
    lab = await createLab({ hosts: 1, podsPerHost: 0 });
    kube = await startKubeLab(lab, { etcdEndpoint: etcd.endpoint });
    world = await startAwsWorld({ tables: 1, quota: QUOTA, instances: 6, limits: false });
    kubectl = kubectlWith(kube.api.kubeconfigPath, join(dir, 'kube-cache'));
    metricsPort = await freePort();
  });
  after(async () => {
    await agent?.stop();
    await controller?.stop();
    await world?.close();
    await kube?.destroy();
    await lab?.destroy();
    await etcd?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const host = (): Lab['hosts'][number] => lab.hosts[0]!;
  const agentNode = (): string => kube.nodeName(host());
  const node = async (name: string): Promise<NodeObject> => (await kube.raw('GET', `/api/v1/nodes/${name}`)).json<NodeObject>();
  const routeState = async (name: string): Promise<string | undefined> => {
    const text = (await node(name)).metadata.annotations?.[ROUTE_STATUS_ANNOTATION];
    return text === undefined ? undefined : (JSON.parse(text) as { state: string }).state;
  };
  const networkAvailable = async (): Promise<boolean> =>
    (await node(agentNode())).status?.conditions?.some((c) => c.type === 'NetworkUnavailable' && c.status === 'False' && c.reason === 'TartanIsUp') ?? false;
  const warningsFor = async (name: string): Promise<string[]> =>
    (await kube.raw('GET', '/api/v1/namespaces/default/events')).json<{ items: { involvedObject: { name: string }; type: string; reason: string }[] }>().items
      .filter((e) => e.involvedObject.name === name && e.type === 'Warning').map((e) => e.reason);
  const agentReady = async (): Promise<string> => (await nsExec(host().ns, 'curl', ['-s', '-w', ' %{http_code}', 'http://127.0.0.1:18081/readyz'])).stdout;
  const controllerReady = async (): Promise<string> => {
    try {
      return await (await fetch(`http://127.0.0.1:${metricsPort}/readyz`)).text();
    } catch {
      return '';
    }
  };
  const leaseName = (): string => electionScope('aws', world.domain).kubeLeaseName;
  const lease = async (): Promise<{ holderIdentity?: string; renewTime?: string }> =>
    (await kube.raw('GET', `/apis/coordination.k8s.io/v1/namespaces/${NAMESPACE}/leases/${leaseName()}`)).json<{ spec: { holderIdentity?: string; renewTime?: string } }>().spec ?? {};

  /** A node of the controller's VPC (instance i), annotated as its agent would have. */
  const createVpcNode = async (i: number): Promise<string> => {
    const a = agentAttrs(world.hosts(i, i + 1)[0]!);
    const cidr = `10.42.${200 + i}.0/24`;
    const res = await kube.raw('POST', '/api/v1/nodes', {
      body: {
        apiVersion: 'v1', kind: 'Node', spec: { podCIDR: cidr, podCIDRs: [cidr] },
        metadata: { name: `n${i}`, annotations: { [keys.subnetManager]: 'true', [keys.backendType]: a.backendType, [keys.backendData]: JSON.stringify(a.backendData), [keys.publicIp]: a.publicIp } },
      },
    });
    assert.equal(res.status, 201, res.text);
    return `n${i}`;
  };

  /** Applies `kind/name` without its rule on `resources` (remembered for the coverage check). */
  const withoutRule = async (kind: string, name: string, resources: string): Promise<KubeObject> => {
    const role = findObject(objects, kind, name);
    const i = rulesOf(role).findIndex((r) => r.resources.join(',') === resources);
    assert.ok(i >= 0, `${kind}/${name} has a rule on ${resources}`);
    cut.add(ruleKey(role, rulesOf(role)[i]!));
    await applyRole(kubectl, dir, role, i);
    return role;
  };

  test('kubectl apply, then the agent (its pod → its node) and the controller run with their ServiceAccounts and do their job', async () => {
    const applied = await kubectl(['apply', '--validate=false', '-f', MANIFEST]);
    assert.equal(applied.code, 0, applied.stderr);
    objects = await manifestObjects({ kubectl });
    await kube.createNode(host());
    for (const i of [0, 1, 2]) await createVpcNode(i);
    const pod = await kube.raw('POST', `/api/v1/namespaces/${NAMESPACE}/pods`, { body: { metadata: { name: POD }, spec: { nodeName: agentNode(), containers: [{ name: 'agent', image: 'tartan' }] } } });
    assert.equal(pod.status, 201, pod.text);

    const server = `https://127.0.0.1:${kube.api.port}`;
    const kubeconfig = (sa: string): string =>
      writeKubeconfig({ path: join(dir, `${sa}.kubeconfig`), server, token: kube.api.admin.serviceAccountToken(NAMESPACE, sa), caPem: kube.api.caPem, userName: sa });
    const agentSpec = { ns: host().ns, kubeconfig: kubeconfig(AGENT_SA), netConfPath: kube.netConfPath, subnetFile, pod: POD, healthzPort: 18081 };
    const controllerSpec = { world, kubeconfig: kubeconfig(CONTROLLER_SA), netConfPath: kube.netConfPath, node: 'n0', quota: QUOTA, metricsPort };
    restartAgent = () => (agent = startAgent(agentSpec));
    restartController = () => (controller = startKubeController(controllerSpec));
    restartAgent();
    restartController();

    await waitFor('the agent ready', async () => (await agentReady()).endsWith(' 200'), { timeoutMs: 30_000, details: () => agent!.output() });
    assert.match(readFileSync(subnetFile, 'utf8'), new RegExp(`FLANNEL_SUBNET=10\\.42\\.${host().index}\\.1/24`));
    await waitFor('NetworkUnavailable=False on the agent\'s node', networkAvailable, 10_000);
    const a = (await node(agentNode())).metadata.annotations ?? {};
    assert.equal(a[keys.subnetManager], 'true');
    assert.equal(a[keys.publicIp], host().ip);

    await waitFor('the controller routes two nodes, one overflows', async () => {
      const states = await Promise.all(['n0', 'n1', 'n2'].map(routeState));
      return states.toSorted().join() === 'overflow,programmed,programmed';
    }, { timeoutMs: 30_000, details: () => controller!.output().slice(-3000) });
    assert.equal((await lease()).holderIdentity, 'ctl-a', `the Lease ${NAMESPACE}/${leaseName()} is the controller's`);
    const overflowing = (await Promise.all(['n0', 'n1', 'n2'].map(async (n) => [n, await routeState(n)] as const))).find(([, s]) => s === 'overflow')![0];
    await waitFor('a Warning Event on the overflowing node', async () => (await warningsFor(overflowing)).includes('RouteTableFull'), 10_000);
    assert.ok((await node('n0')).metadata.annotations?.[heartbeatAnnotation(world.domain)], 'the heartbeat on the controller\'s own node');
  });

  /** Without `nodes` on `sa`'s ClusterRole, dropping the watches makes the daemon's re-watch a 403 it logs by request; answers the role. */
  const rewatchRefused = async (d: Daemon, sa: typeof AGENT_SA | typeof CONTROLLER_SA): Promise<KubeObject> => {
    const role = await withoutRule('ClusterRole', sa, 'nodes');
    const from = d.output().length;
    kube.api.admin.dropWatches();
    await waitLogged(d, {
      from, msg: 'node list/watch failed; the view stays as it is, retrying', field: 'err',
      text: refusal(sa, 'watch /api/v1/nodes', { verb: 'watch', resource: 'nodes', group: '' }),
    });
    return role;
  };

  test('ClusterRole tartan-agent without nodes: the running agent\'s re-watch is refused, logged by request; it keeps its view', async () => {
    const role = await rewatchRefused(agent!, AGENT_SA);
    assert.match(await agentReady(), / 200$/, 'fail static: still ready on the view it has');
    await applyRole(kubectl, dir, role);
  });

  test('ClusterRole tartan-controller without nodes: the running controller\'s re-watch is refused, logged by request; both resume', async () => {
    const role = await rewatchRefused(controller!, CONTROLLER_SA);
    await applyRole(kubectl, dir, role);
    // Both watches are back: a new node reaches the agent's kernel and the controller's table.
    const n3 = await createVpcNode(3);
    await waitFor('the agent routes the new node', async () => (await nsExec(host().ns, 'ip', ['route', 'show'])).stdout.includes('10.42.203.0/24'), { timeoutMs: 20_000, details: () => agent!.output().slice(-2000) });
    await waitFor('the controller publishes the new node\'s status', async () => (await routeState(n3)) === 'overflow', { timeoutMs: 20_000, details: () => controller!.output().slice(-2000) });
  });

  test('ClusterRole tartan-controller without events: the Warning Event for a node that overflows is refused, logged by node and request', async () => {
    const role = await withoutRule('ClusterRole', CONTROLLER_SA, 'events');
    const from = controller!.output().length;
    const n4 = await createVpcNode(4);
    const line = await waitLogged(controller!, {
      from, msg: 'could not post a node Event', field: 'err',
      text: refusal(CONTROLLER_SA, 'POST /api/v1/namespaces/default/events', { verb: 'create', resource: 'events', group: '', namespace: 'default' }),
    });
    assert.deepEqual([line.node, line.reason], [n4, 'RouteTableFull']);
    assert.equal(await routeState(n4), 'overflow', 'the status itself is published');
    assert.deepEqual(await warningsFor(n4), []);
    await applyRole(kubectl, dir, role);
    const n5 = await createVpcNode(5);
    await waitFor('the next overflowing node gets its Warning Event', async () => (await warningsFor(n5)).includes('RouteTableFull'), { timeoutMs: 20_000, details: () => controller!.output().slice(-2000) });
  });

  test('ClusterRole tartan-controller without nodes/status: every pass fails naming the heartbeat patch; with the rule back the heartbeat goes on', async () => {
    const role = await withoutRule('ClusterRole', CONTROLLER_SA, 'nodes/status');
    const from = controller!.output().length;
    await waitLogged(controller!, {
      from, msg: 'pass failed; nothing deleted; will retry', field: 'err',
      text: refusal(CONTROLLER_SA, 'PATCH /api/v1/nodes/n0/status', { verb: 'patch', resource: 'nodes/status', group: '', objName: 'n0' }),
    });
    const restoredAt = Date.now();
    await applyRole(kubectl, dir, role);
    await waitFor('a heartbeat observed after the rule is back', async () => {
      const hb = (await node('n0')).metadata.annotations?.[heartbeatAnnotation(world.domain)];
      return hb !== undefined && Date.parse((JSON.parse(hb) as { observed: string }).observed) > restoredAt;
    }, { timeoutMs: 15_000, details: () => controller!.output().slice(-2000) });
  });

  test('Role tartan-controller-election without leases: the leader cannot renew, says so naming the Lease update, and exits; back, it leads again', async () => {
    const role = await withoutRule('Role', 'tartan-controller-election', 'leases');
    const from = controller!.output().length;
    const name = `${NAMESPACE}/${leaseName()}`;
    await waitLogged(controller!, {
      from, msg: 'leadership lost: stopped acting; exiting to restart clean', field: 'why',
      text: refusal(CONTROLLER_SA, `replace Lease ${name}`, { verb: 'update', resource: 'leases', group: 'coordination.k8s.io', namespace: NAMESPACE, objName: leaseName() }),
    });
    assert.equal(await controller!.exited, 4, 'the exit code of a lost leadership');
    await applyRole(kubectl, dir, role);
    const restartedAt = Date.now();
    restartController();
    await waitFor('the restarted controller leads', async () => (await controllerReady()).includes('leading'), { timeoutMs: 20_000, details: () => controller!.output().slice(-2000) });
    const l = await lease();
    assert.equal(l.holderIdentity, 'ctl-a');
    assert.ok(Date.parse(l.renewTime ?? '') > restartedAt, `renewed after the restart: ${l.renewTime}`);
  });

  test('ClusterRole tartan-agent without nodes/status: the restarted agent cannot set NetworkUnavailable=False and says why; with the rule back it does', async () => {
    const role = await withoutRule('ClusterRole', AGENT_SA, 'nodes/status');
    // As a cloud node controller would leave it: the network not yet available.
    const unset = await kube.raw('PATCH', `/api/v1/nodes/${agentNode()}/status`, {
      body: { status: { conditions: [{ type: 'NetworkUnavailable', status: 'True', reason: 'NoRouteCreated' }] } }, contentType: 'application/strategic-merge-patch+json',
    });
    assert.equal(unset.status, 200, unset.text);
    await agent!.stop();
    restartAgent();
    await waitLogged(agent!, {
      from: 0, msg: 'could not set NetworkUnavailable=False; retrying', field: 'err',
      text: refusal(AGENT_SA, `PATCH /api/v1/nodes/${agentNode()}/status`, { verb: 'patch', resource: 'nodes/status', group: '', objName: agentNode() }),
    });
    assert.equal(await networkAvailable(), false);
    await applyRole(kubectl, dir, role);
    await waitFor('NetworkUnavailable=False once the rule is back', networkAvailable, { timeoutMs: 15_000, details: () => agent!.output().slice(-2000) });
  });

  test('ClusterRole tartan-agent without pods: the agent cannot find its node, exits 1 naming the pod GET; with the rule back it starts', async () => {
    const role = await withoutRule('ClusterRole', AGENT_SA, 'pods');
    await agent!.stop();
    const a = restartAgent();
    assert.equal(await a.exited, 1, a.output());
    await waitLogged(a, {
      from: 0, msg: /./, field: 'msg',
      text: refusal(AGENT_SA, `GET /api/v1/namespaces/${NAMESPACE}/pods/${POD}`, { verb: 'get', resource: 'pods', group: '', namespace: NAMESPACE, objName: POD }),
      timeoutMs: 1000,
    });
    await applyRole(kubectl, dir, role);
    restartAgent();
    await waitFor('the agent ready again', async () => (await agentReady()).endsWith(' 200'), { timeoutMs: 20_000, details: () => agent!.output() });
  });

  test('every rule of the three roles was taken out and each was needed', () => {
    const all = [['ClusterRole', AGENT_SA], ['ClusterRole', CONTROLLER_SA], ['Role', 'tartan-controller-election']] as const;
    const rules = all.flatMap(([kind, name]) => {
      const role = findObject(objects, kind, name);
      return rulesOf(role).map((r) => ruleKey(role, r));
    });
    assert.deepEqual([...cut].toSorted(), rules.toSorted());
  });
});
