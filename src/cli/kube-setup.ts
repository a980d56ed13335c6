// What Kubernetes mode's flags build: the API client (a lean kubeconfig / in-cluster
// reader; client-node's KubeConfig only where a kubeconfig needs an exec plugin or an
// auth provider, and for the controller's Lease election), the annotation keys and this
// host's node name (NODE_NAME, else POD_NAME + POD_NAMESPACE → the pod's spec.nodeName,
// as flanneld does). Imported dynamically, in Kubernetes mode only.
import { existsSync } from 'node:fs';
import type { KubeConfig } from '@kubernetes/client-node';
import { InvalidInputError } from '../errors.ts';
import { KubeClient } from '../lease/kube-client.ts';
import { SERVICE_ACCOUNT_DIR, loadKubeEndpoint } from '../lease/kube-config.ts';
import { type AnnotationKeys, annotationKeys } from '../lease/kube-node.ts';
import type { KubeFlagOptions } from './kube-flags.ts';

type KubeValues = Pick<KubeFlagOptions, 'kube-api-url' | 'kubeconfig-file' | 'kube-annotation-prefix'>;

export interface KubeSetup {
  readonly api: KubeClient;
  readonly keys: AnnotationKeys;
  /** client-node's KubeConfig for the same flags (loads client-node: the controller's election only). */
  kubeConfig(): Promise<KubeConfig>;
}

/** The values were checked while parsing; errors name the flag. */
export async function kubeFromFlags(values: KubeValues, env: NodeJS.ProcessEnv = process.env): Promise<KubeSetup> {
  const keys = annotationKeys(values['kube-annotation-prefix']);
  const kubeConfig = (): Promise<KubeConfig> => loadKubeConfig(values['kubeconfig-file'], values['kube-api-url'], env);
  const endpoint = loadKubeEndpoint({ file: values['kubeconfig-file'], url: values['kube-api-url'], env });
  if (endpoint) return { api: new KubeClient(endpoint), keys, kubeConfig };
  const kc = await kubeConfig();
  return { api: new KubeClient(kc), keys, kubeConfig: async () => kc };
}

/** The same flags through client-node (kubeconfig exec plugins, auth providers, the Lease API). */
export async function loadKubeConfig(file: string | undefined, url: string | undefined, env: NodeJS.ProcessEnv): Promise<KubeConfig> {
  const { KubeConfig } = await import('@kubernetes/client-node');
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
  if (env['KUBERNETES_SERVICE_HOST'] !== undefined && existsSync(`${SERVICE_ACCOUNT_DIR}/token`)) {
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
