// Kubernetes mode's flags (flanneld's names). What they build is in kube-setup.ts,
// loaded only in Kubernetes mode: an etcd-mode agent never loads the Kubernetes client.
import { endpointUrl, regularFilePath } from '../config/checks.ts';
import { type FlagOptions, flagTable } from '../config/flags.ts';
import type { InvalidInputError } from '../errors.ts';
import { DEFAULT_ANNOTATION_PREFIX, annotationKeys } from '../lease/kube-node.ts';

export const KUBE_NET_CONFIG_PATH = '/etc/kube-flannel/net-conf.json';

export const KUBE_FLAGS = flagTable([
  { name: 'kube-subnet-mgr', type: 'boolean', default: false, help: `Kubernetes mode: leases are the Nodes' spec.podCIDR(s) and flannel's node annotations, no etcd (the network config comes from --net-config-path, default ${KUBE_NET_CONFIG_PATH})` },
  { name: 'kube-api-url', type: 'string', check: endpointUrl, help: 'Kubernetes API server URL (default: from --kubeconfig-file, else in-cluster)' },
  { name: 'kubeconfig-file', type: 'string', check: regularFilePath, help: 'kubeconfig file (default: the pod\'s in-cluster ServiceAccount)' },
  { name: 'kube-annotation-prefix', type: 'string', default: DEFAULT_ANNOTATION_PREFIX, check: (v) => { try { annotationKeys(v); return undefined; } catch (err) { return (err as InvalidInputError).message.replace(/^[^:]*: /, ''); } }, help: 'prefix of flannel\'s node annotations (flannel\'s normalisation: a "/" is appended, or "-" after a name part)' },
]);

export type KubeFlagOptions = FlagOptions<typeof KUBE_FLAGS>;

