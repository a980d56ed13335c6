// How long ago a lease key's holder wrote it, read from its etcd lease: every write
// (acquire, renew) grants a fresh etcd lease of the full TTL, so granted − remaining
// is the time since the last write. Used by the agent's one-host-per-lease check.
import type { Etcd3 } from 'etcd3';

/** Undefined for a reservation (no etcd lease), a key that is gone or an etcd lease that expired. */
export async function leaseWrittenAgoMs(client: Etcd3, fullKey: string): Promise<number | undefined> {
  const res = await client.get(fullKey).exec();
  const id = res.kvs[0]?.lease;
  if (id === undefined || id === '0') return undefined;
  const ttl = await client.leaseClient.leaseTimeToLive({ ID: id });
  const remaining = Number(ttl.TTL);
  const granted = Number(ttl.grantedTTL);
  if (!(remaining > 0) || !(granted > 0)) return undefined;
  return Math.max(0, granted - remaining) * 1000;
}
