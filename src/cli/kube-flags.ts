// Kubernetes mode's flags (flanneld's names) and what they build: a KubeConfig
// (--kubeconfig-file, else --kube-api-url, else the pod's in-cluster ServiceAccount),
// the annotation keys (--kube-annotation-prefix) and this host's node name (NODE_NAME,
// else POD_NAME + POD_NAMESPACE → the pod's spec.nodeName, as flanneld does).
import { existsSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { endpointUrl, regularFilePath } from '../config/checks.ts';
import { type FlagOptions, flagTable } from '../config/flags.ts';
import { InvalidInputError } from '../errors.ts';
import { KubeClient } from '../lease/kube-client.ts';
import { type AnnotationKeys, DEFAULT_ANNOTATION_PREFIX, annotationKeys } from '../lease/kube-node.ts';

export const KUBE_NET_CONFIG_PATH = '/etc/kube-flannel/net-conf.json';
const SA_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

export const KUBE_FLAGS = flagTable([
  { name: 'kube-subnet-mgr', type: 'boolean', default: false, help: `Kubernetes mode: leases are the Nodes' spec.podCIDR(s) and flannel's node annotations, no etcd (the network config comes from --net-config-path, default ${KUBE_NET_CONFIG_PATH})` },
  { name: 'kube-api-url', type: 'string', check: endpointUrl, help: 'Kubernetes API server URL (default: from --kubeconfig-file, else in-cluster)' },
  { name: 'kubeconfig-file', type: 'string', check: regularFilePath, help: 'kubeconfig file (default: the pod\'s in-cluster ServiceAccount)' },
  { name: 'kube-annotation-prefix', type: 'string', default: DEFAULT_ANNOTATION_PREFIX, check: (v) => { try { annotationKeys(v); return undefined; } catch (err) { return (err as InvalidInputError).message.replace(/^[^:]*: /, ''); } }, help: 'prefix of flannel\'s node annotations (flannel\'s normalisation: a "/" is appended, or "-" after a name part)' },
]);

export type KubeFlagOptions = FlagOptions<typeof KUBE_FLAGS>;

export interface KubeSetup {
  readonly kc: KubeConfig;
  readonly api: KubeClient;
  readonly keys: AnnotationKeys;
}

/** The values were checked while parsing; this loads the kubeconfig (errors name the flag). */
export function kubeFromFlags(values: Pick<KubeFlagOptions, 'kube-api-url' | 'kubeconfig-file' | 'kube-annotation-prefix'>, env: NodeJS.ProcessEnv = process.env): KubeSetup {
  const kc = loadKubeConfig(values['kubeconfig-file'], values['kube-api-url'], env);
  return { kc, api: new KubeClient(kc), keys: annotationKeys(values['kube-annotation-prefix']) };
}

export function loadKubeConfig(file: string | undefined, url: string | undefined, env: NodeJS.ProcessEnv): KubeConfig {
  const kc = new KubeConfig();
  if (file) {
    try {
      kc.loadFromFile(file);
    } catch (err) {
      throw new InvalidInputError('--kubeconfig-file', file, `is not a usable kubeconfig: ${(err as Error).message}`, { cause: err });
    }
    if (!kc.getCurrentCluster()) throw new InvalidInputError('--kubeconfig-file', file, 'has no current context with a cluster');
    if (url) overrideServer(kc, url);
    return kc;
  }
  const inCluster = env['KUBERNETES_SERVICE_HOST'] !== undefined && existsSync(SA_TOKEN);
  if (inCluster) {
    kc.loadFromCluster();
    if (url) overrideServer(kc, url);
    return kc;
  }
  if (url) {
    // No credentials: an insecure local port, or a proxy (kubectl proxy) that adds them.
    kc.loadFromOptions({
      clusters: [{ name: 'api', server: url.replace(/\/+$/, ''), skipTLSVerify: url.startsWith('http:') }],
      users: [{ name: 'anonymous' }],
      contexts: [{ name: 'api', cluster: 'api', user: 'anonymous' }],
      currentContext: 'api',
    });
    return kc;
  }
  throw new InvalidInputError('--kubeconfig-file', undefined, 'is needed outside a pod (no KUBERNETES_SERVICE_HOST and no ServiceAccount token): give --kubeconfig-file or --kube-api-url');
}

function overrideServer(kc: KubeConfig, url: string): void {
  const current = kc.getCurrentCluster()!;
  const clusters = kc.clusters.map((c) => (c.name === current.name ? { ...c, server: url.replace(/\/+$/, '') } : c));
  kc.loadFromOptions({ clusters, users: kc.users, contexts: kc.contexts, currentContext: kc.currentContext });
}

/** NODE_NAME, else the node of pod POD_NAMESPACE/POD_NAME (flanneld's rule; needs `get pods`). */
export async function resolveNodeName(api: KubeClient, env: NodeJS.ProcessEnv, signal: AbortSignal): Promise<string> {
  const direct = env['NODE_NAME'];
  if (direct) return direct;
  const pod = env['POD_NAME'];
  const ns = env['POD_NAMESPACE'];
  if (!pod || !ns) throw new InvalidInputError('NODE_NAME', direct, 'must be set in Kubernetes mode, or both POD_NAME and POD_NAMESPACE (the DaemonSet sets them from the downward API)');
  const obj = await api.request<{ spec?: { nodeName?: unknown } }>({ method: 'GET', path: `/api/v1/namespaces/${encodeURIComponent(ns)}/pods/${encodeURIComponent(pod)}`, signal });
  const name = obj.spec?.nodeName;
  if (typeof name !== 'string' || name === '') throw new InvalidInputError(`pod ${ns}/${pod} spec.nodeName`, name, 'is not set (the pod is not scheduled)');
  return name;
}
