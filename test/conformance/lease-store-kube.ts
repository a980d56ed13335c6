// The Kubernetes lease store's conformance fixture: the kube-apiserver emulator on a
// private etcd (its compaction must never touch the shared one), peers written as
// flannel's kube subnet manager leaves them (a Node with spec.podCIDR and flannel's
// annotations), and the store's API behind a switch that cuts it off (every request
// and watch fails as a refused connection would) while history is compacted.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { parseNetworkConfig } from '../../src/config/network.ts';
import { type KubeApi, KubeApiError, KubeClient, type KubeRequest, type KubeStreamRequest } from '../../src/lease/kube-client.ts';
import { annotationKeys } from '../../src/lease/kube-node.ts';
import { KubeLeaseStore } from '../../src/lease/kube.ts';
import type { LeaseAttrs } from '../../src/lease/lease.ts';
import { rawRequest } from '../emulators/kube-apiserver/fixture.ts';
import { writeKubeconfig } from '../emulators/kube-apiserver/kubeconfig.ts';
import { startKubeApiserver } from '../emulators/kube-apiserver/server.ts';
import { startEtcd } from '../support/etcd.ts';
import type { LeaseCaseName, LeaseStoreFixture } from './lease-store.ts';

export const KUBE_GAPS: Partial<Record<LeaseCaseName, string>> = {
  'acquire allocates a free subnet of SubnetLen': 'kube-controller-manager assigns spec.podCIDR (--allocate-node-cidrs): acquire takes the node\'s podCIDR, nothing is allocated',
  'a reservation is taken by its PublicIP only and never expires': 'no reservations: a podCIDR belongs to its Node, nothing is held for a host that has none',
  'leases expire and renew extends them': 'no TTL: a Node lease lives as long as the Node (flannel reports now + 24 h and never renews); renew answers the lease as it is',
};

const STORE_USER = 'tartan-conformance-store';
const OWN = 'own';

/** The store's KubeApi with a switch: while cut, every call fails (status 0) and open watches end. */
class Cuttable implements KubeApi {
  readonly server: string;
  readonly #inner: KubeApi;
  readonly #streams = new Set<AbortController>();
  #cut = false;
  constructor(inner: KubeApi) {
    this.#inner = inner;
    this.server = inner.server;
  }
  set cut(on: boolean) {
    this.#cut = on;
    if (on) for (const ac of this.#streams) ac.abort(new KubeApiError('watch', 0, 'ConnectionRefused', 'cut by the conformance fixture'));
  }
  #refuse(what: string): void {
    if (this.#cut) throw new KubeApiError(what, 0, 'ConnectionRefused', 'connect ECONNREFUSED (cut by the conformance fixture)');
  }
  async request<T = unknown>(req: KubeRequest): Promise<T> {
    this.#refuse(`${req.method} ${req.path}`);
    return await this.#inner.request<T>(req);
  }
  async stream(req: KubeStreamRequest): Promise<void> {
    this.#refuse(`watch ${req.path}`);
    const ac = new AbortController();
    this.#streams.add(ac);
    try {
      await this.#inner.stream({ ...req, signal: AbortSignal.any([req.signal, ac.signal]) });
    } finally {
      this.#streams.delete(ac);
    }
    if (ac.signal.aborted && !req.signal.aborted) throw ac.signal.reason as Error;
  }
}

export async function kubeLeaseFixture(): Promise<LeaseStoreFixture> {
  const etcd = await startEtcd();
  const dir = mkdtempSync(join(tmpdir(), 'tartan-lease-conformance-'));
  const api = await startKubeApiserver({ etcdEndpoint: etcd.endpoint, prefix: '/conformance', kubeconfigPath: join(dir, 'admin.kubeconfig'), bookmarkIntervalMs: 500 });
  const token = `store-${Math.random().toString(36).slice(2)}`;
  api.admin.addToken(token, { name: STORE_USER, groups: ['system:masters'] });
  const kc = new KubeConfig();
  kc.loadFromFile(writeKubeconfig({ path: join(dir, 'store.kubeconfig'), server: api.endpoint, token, caPem: api.caPem, userName: STORE_USER }));
  const client = new KubeClient(kc);
  const cuttable = new Cuttable(client);
  const keys = annotationKeys();
  const lifetime = new AbortController();
  const store = new KubeLeaseStore({ api: cuttable, keys, lifetime: lifetime.signal, ipv6: false, nodeName: OWN, heartbeatNode: 'controller' });
  const config = parseNetworkConfig('{"Network":"10.244.0.0/16","SubnetLen":24,"Backend":{"Type":"vxlan"}}', 'conformance');

  const call = async (method: string, path: string, body?: unknown, contentType?: string): Promise<Record<string, unknown>> => {
    const res = await rawRequest(api, method, path, { body, contentType });
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
    return res.json();
  };
  const patch = (name: string, body: unknown, sub = ''): Promise<unknown> => call('PATCH', `/api/v1/nodes/${name}${sub}`, body, 'application/strategic-merge-patch+json');
  const nodes = new Set<string>();
  const createNode = async (name: string, cidr: string, annotations: Record<string, string>): Promise<void> => {
    await call('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name, annotations }, spec: { podCIDR: cidr, podCIDRs: [cidr] }, status: { conditions: [{ type: 'Ready', status: 'True' }] } });
    nodes.add(name);
  };
  /** What flannel's kube subnet manager writes on its node. */
  const flannelAnnotations = (attrs: LeaseAttrs, publicIp = attrs.publicIp): Record<string, string> => ({
    [keys.subnetManager]: 'true', [keys.backendType]: attrs.backendType, [keys.backendData]: JSON.stringify(attrs.backendData ?? null), [keys.publicIp]: publicIp,
  });
  const putNode = async (i: number, annotations: Record<string, string>): Promise<void> => {
    const name = `peer-${i}`;
    if (nodes.has(name)) await patch(name, { metadata: { annotations } }, '/status');
    else await createNode(name, `10.244.${i}.0/24`, annotations);
  };
  let churn = 0;
  await createNode('controller', '10.244.250.0/24', {});

  return {
    store, config,
    putPeer: async (i, attrs) => {
      await putNode(i, flannelAnnotations(attrs));
      return `10.244.${i}.0-24`;
    },
    deletePeer: async (i) => {
      await call('DELETE', `/api/v1/nodes/peer-${i}`);
      nodes.delete(`peer-${i}`);
    },
    touchPeer: async (i) => {
      churn++;
      await patch(`peer-${i}`, { status: { conditions: [{ type: 'Ready', status: churn % 2 === 0 ? 'True' : 'False' }] } }, '/status');
      await patch(`peer-${i}`, { metadata: { labels: { churn: String(churn) } } });
    },
    corruptPeer: async (i) => {
      await putNode(i, flannelAnnotations({ publicIp: '', backendType: 'vxlan' }, '192.168.60.999'));
      return { key: `node/peer-${i}`, names: [`peer-${i}`, keys.publicIp, '192.168.60.999'] };
    },
    prepareOwn: async () => {
      if (!nodes.has(OWN)) await createNode(OWN, '10.244.200.0/24', {});
      return '10.244.200.0-24';
    },
    writes: () => api.admin.calls().filter((c) => c.user === STORE_USER && c.method !== 'GET').length,
    lists: () => store.cache.stats.lists,
    dropConnection: () => {
      api.admin.dropWatches();
      return Promise.resolve();
    },
    cutAndCompact: async (during) => {
      cuttable.cut = true;
      try {
        await during();
        await api.admin.compact();
      } finally {
        cuttable.cut = false;
      }
    },
    networkCondition: async () => {
      const node = await call('GET', `/api/v1/nodes/${OWN}`) as { status?: { conditions?: { type: string; status: string; reason?: string }[] } };
      const c = node.status?.conditions?.find((x) => x.type === 'NetworkUnavailable');
      return c ? [c.status, c.reason] : undefined;
    },
    close: async () => {
      lifetime.abort();
      client.close();
      await api.close();
      await etcd.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
