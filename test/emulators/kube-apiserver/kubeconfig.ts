// Kubeconfigs for the emulator: HTTPS with the emulator's self-signed CA and a
// bearer token. (For plain HTTP: insecure-skip-tls-verify, which client-node 2.x
// demands for http://; kubectl then sends no token.) JSON is valid YAML.
import { writeFileSync } from 'node:fs';

export interface KubeconfigOptions {
  readonly path: string;
  readonly server: string;
  readonly token: string;
  /** PEM of the CA to trust; without it the cluster gets insecure-skip-tls-verify. */
  readonly caPem?: string | undefined;
  /** Names the user entry (e.g. `admin`, or a ServiceAccount's name). */
  readonly userName?: string;
}

export function kubeconfigText(opts: Omit<KubeconfigOptions, 'path'>): string {
  const user = opts.userName ?? 'admin';
  return `${JSON.stringify({
    apiVersion: 'v1', kind: 'Config',
    clusters: [{ name: 'tartan-emulator', cluster: opts.caPem
      ? { server: opts.server, 'certificate-authority-data': Buffer.from(opts.caPem).toString('base64') }
      : { server: opts.server, 'insecure-skip-tls-verify': true } }],
    users: [{ name: user, user: { token: opts.token } }],
    contexts: [{ name: `${user}@tartan-emulator`, context: { cluster: 'tartan-emulator', user } }],
    'current-context': `${user}@tartan-emulator`,
  }, null, 2)}\n`;
}

export function writeKubeconfig(opts: KubeconfigOptions): string {
  writeFileSync(opts.path, kubeconfigText(opts), { mode: 0o600 });
  return opts.path;
}
