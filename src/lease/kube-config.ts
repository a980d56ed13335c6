// Where the Kubernetes API is and how to authenticate, read without loading
// @kubernetes/client-node: that package costs an agent ~60–90 MB of RSS (it loads every
// generated API type), and the agent on every node needs none of it. Covers what a
// DaemonSet and an operator use: the pod's in-cluster ServiceAccount (its token file is
// re-read, as bound tokens rotate), and kubeconfig files with a bearer token or token
// file, client certificates, a CA and insecure-skip-tls-verify. A kubeconfig whose user
// needs an exec plugin or an auth provider returns `undefined`: the caller then uses
// client-node's KubeConfig, which runs them.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { load } from 'js-yaml';
import { InvalidInputError } from '../errors.ts';

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface KubeEndpoint {
  readonly server: string;
  readonly ca?: Buffer | undefined;
  readonly cert?: Buffer | undefined;
  readonly key?: Buffer | undefined;
  readonly token?: string | undefined;
  /** Read again at most every minute (rotated ServiceAccount tokens). */
  readonly tokenFile?: string | undefined;
  readonly insecureSkipTlsVerify?: boolean | undefined;
}

type Yaml = Record<string, unknown>;

/**
 * The endpoint from the flags, flanneld's order: --kubeconfig-file (with --kube-api-url
 * overriding its server), else in-cluster (same override), else --kube-api-url alone
 * (no credentials), else an error naming the flags. `undefined`: the kubeconfig's user
 * needs client-node (exec plugin, auth provider).
 */
export function loadKubeEndpoint(o: { file?: string | undefined; url?: string | undefined; env: NodeJS.ProcessEnv; saDir?: string }): KubeEndpoint | undefined {
  const url = o.url?.replace(/\/+$/, '');
  if (o.file) {
    const ep = fromKubeconfig(o.file);
    return ep && url ? { ...ep, server: url } : ep;
  }
  const saDir = o.saDir ?? SERVICE_ACCOUNT_DIR;
  const host = o.env['KUBERNETES_SERVICE_HOST'];
  if (host !== undefined && existsSync(join(saDir, 'token'))) {
    const port = o.env['KUBERNETES_SERVICE_PORT'] ?? '443';
    const ca = join(saDir, 'ca.crt');
    return {
      server: url ?? `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
      ca: existsSync(ca) ? readFileSync(ca) : undefined,
      tokenFile: join(saDir, 'token'),
    };
  }
  if (url) return { server: url, insecureSkipTlsVerify: url.startsWith('http:') };
  throw new InvalidInputError('--kubeconfig-file', undefined, 'is needed outside a pod (no KUBERNETES_SERVICE_HOST and no ServiceAccount token): give --kubeconfig-file or --kube-api-url');
}

function fromKubeconfig(file: string): KubeEndpoint | undefined {
  const field = (what: string): string => `--kubeconfig-file ${file}: ${what}`;
  let doc: unknown;
  try {
    doc = load(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new InvalidInputError('--kubeconfig-file', file, `is not a readable YAML kubeconfig: ${(err as Error).message}`, { cause: err });
  }
  const root = asObject(doc, field('the document'));
  const current = root['current-context'];
  if (typeof current !== 'string' || current === '') throw new InvalidInputError(field('current-context'), current, 'must name a context');
  const context = named(root.contexts, current, 'context', field('contexts'));
  const clusterName = typeof context.cluster === 'string' ? context.cluster : '';
  const cluster = named(root.clusters, clusterName, 'cluster', field(`context ${current}.cluster`));
  const user = typeof context.user === 'string' ? named(root.users, context.user, 'user', field(`context ${current}.user`)) : {};
  if (user.exec !== undefined || user['auth-provider'] !== undefined || user.username !== undefined) return undefined;
  const server = cluster.server;
  if (typeof server !== 'string' || !/^https?:\/\//.test(server)) throw new InvalidInputError(field(`cluster ${clusterName}.server`), server, 'must be an http(s) URL');
  const base = dirname(file);
  const bytes = (data: unknown, path: unknown, what: string): Buffer | undefined => {
    if (typeof data === 'string' && data !== '') return Buffer.from(data, 'base64');
    if (typeof path === 'string' && path !== '') {
      const p = isAbsolute(path) ? path : join(base, path);
      try {
        return readFileSync(p);
      } catch (err) {
        throw new InvalidInputError(field(what), p, `cannot be read: ${(err as Error).message}`, { cause: err });
      }
    }
    return undefined;
  };
  const tokenFile = typeof user.tokenFile === 'string' && user.tokenFile !== '' ? (isAbsolute(user.tokenFile) ? user.tokenFile : join(base, user.tokenFile)) : undefined;
  return {
    server: server.replace(/\/+$/, ''),
    ca: bytes(cluster['certificate-authority-data'], cluster['certificate-authority'], 'certificate-authority'),
    insecureSkipTlsVerify: cluster['insecure-skip-tls-verify'] === true,
    cert: bytes(user['client-certificate-data'], user['client-certificate'], 'client-certificate'),
    key: bytes(user['client-key-data'], user['client-key'], 'client-key'),
    token: typeof user.token === 'string' && user.token !== '' ? user.token : undefined,
    tokenFile,
  };
}

function asObject(value: unknown, what: string): Yaml {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new InvalidInputError(what, value, 'must be a mapping');
  return value as Yaml;
}

/** `list` is a kubeconfig list of {name, <kind>: {...}}; the entry's body. */
function named(list: unknown, name: string, kind: string, what: string): Yaml {
  const entry = Array.isArray(list) ? (list as unknown[]).find((e) => (e as Yaml | null)?.name === name) : undefined;
  if (entry === undefined) throw new InvalidInputError(what, name, `names no ${kind} of the file`);
  return asObject((entry as Yaml)[kind] ?? {}, `${what} ${name}`);
}
