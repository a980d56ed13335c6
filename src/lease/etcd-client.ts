// The etcd3 client, built once from validated options. TLS and auth as flanneld's
// --etcd-cafile/--etcd-certfile/--etcd-keyfile/--etcd-username/--etcd-password.
import { readFileSync } from 'node:fs';
import { ExponentialBackoff } from 'cockatiel';
import { Etcd3, type IOptions } from 'etcd3';
import { DEFAULT_ETCD_CALL_TIMEOUT_MS, type EtcdTrust } from './etcd-call.ts';

export interface EtcdClientOptions {
  readonly endpoints: readonly string[];
  readonly caFile?: string | undefined;
  readonly certFile?: string | undefined;
  readonly keyFile?: string | undefined;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  readonly dialTimeoutMs?: number;
  /** Deadline of every request (default 5 s): see etcd-call.ts. */
  readonly callTimeoutMs?: number;
}

/** How a client was built: the deadline its callers use and what explains a TLS/auth failure. */
export interface EtcdClientSettings {
  readonly callTimeoutMs: number;
  readonly trust: EtcdTrust;
}

const settings = new WeakMap<Etcd3, EtcdClientSettings>();

/** The settings createEtcdClient recorded (defaults for a client built elsewhere). */
export function etcdClientSettings(client: Etcd3): EtcdClientSettings {
  return settings.get(client) ?? { callTimeoutMs: DEFAULT_ETCD_CALL_TIMEOUT_MS, trust: {} };
}

export function createEtcdClient(opts: EtcdClientOptions): Etcd3 {
  const callTimeoutMs = opts.callTimeoutMs ?? DEFAULT_ETCD_CALL_TIMEOUT_MS;
  const options: IOptions = {
    hosts: [...opts.endpoints],
    dialTimeout: opts.dialTimeoutMs ?? 5000,
    // gRPC cancels a request that etcdCall abandoned (streams: watch, keepalive, have none).
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + callTimeoutMs }),
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
  const client = new Etcd3(options);
  settings.set(client, Object.freeze({ callTimeoutMs, trust: { caFile: opts.caFile, certFile: opts.certFile, username: opts.username } }));
  return client;
}
