// The etcd3 client, built once from validated options. TLS and auth as flanneld's
// --etcd-cafile/--etcd-certfile/--etcd-keyfile/--etcd-username/--etcd-password.
import { readFileSync } from 'node:fs';
import { ExponentialBackoff } from 'cockatiel';
import { Etcd3, type IOptions } from 'etcd3';

export interface EtcdClientOptions {
  readonly endpoints: readonly string[];
  readonly caFile?: string | undefined;
  readonly certFile?: string | undefined;
  readonly keyFile?: string | undefined;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  readonly dialTimeoutMs?: number;
}

export function createEtcdClient(opts: EtcdClientOptions): Etcd3 {
  const options: IOptions = {
    hosts: [...opts.endpoints],
    dialTimeout: opts.dialTimeoutMs ?? 5000,
    // flannel's watch reconnect backoff: 100 ms doubling to 5 s.
    faultHandling: { watchBackoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: 5000 }).next() },
  };
  if (opts.caFile || opts.certFile || opts.keyFile) {
    options.credentials = {
      rootCertificate: opts.caFile ? readFileSync(opts.caFile) : Buffer.alloc(0),
      ...(opts.keyFile ? { privateKey: readFileSync(opts.keyFile) } : {}),
      ...(opts.certFile ? { certChain: readFileSync(opts.certFile) } : {}),
    };
  }
  if (opts.username) options.auth = { username: opts.username, password: opts.password ?? '' };
  return new Etcd3(options);
}
