// Leader election behind a small interface: the controller loop only ever sees an
// AbortSignal that fires when leadership is lost. etcd implements it now
// (src/lease/etcd-election.ts); a Kubernetes Lease implementation can follow. It lives
// with the lease stores because each store elects with its own primitive.

export interface Leadership {
  readonly identity: string;
  /** Aborts the moment this process can no longer be sure it leads. */
  readonly lost: AbortSignal;
  /** Gives leadership up at once (shutdown), so another replica takes over without waiting for the TTL. */
  resign(): Promise<void>;
}

export interface LeaderElector {
  /** Resolves once this process leads; rejects if `signal` aborts first. */
  campaign(signal: AbortSignal): Promise<Leadership>;
  /** The current leader's identity, if any (observed with a read, not a cached event). */
  leader(signal: AbortSignal): Promise<string | undefined>;
}

export function defaultIdentity(hostname: string): string {
  return `${hostname}-${Math.random().toString(36).slice(2, 10)}`;
}
