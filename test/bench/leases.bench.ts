// Lease acquisition: N concurrent acquisitions in one process against one local
// etcd (the distro's), as flannel hosts racing at cluster start.
import { parseNetworkConfig } from '../../src/config/network.ts';
import { EtcdLeaseStore, createEtcdClient } from '../../src/lease/index.ts';
import { startEtcd, uniquePrefix } from '../support/etcd.ts';
import type { BenchOptions, BenchRow } from './result.ts';

export default async function bench(opts: BenchOptions): Promise<BenchRow[]> {
  const n = opts.quick ? 200 : 1000;
  const etcd = await startEtcd();
  const client = createEtcdClient({ endpoints: [etcd.endpoint] });
  try {
    const store = new EtcdLeaseStore({ client, prefix: uniquePrefix('bench') });
    const config = parseNetworkConfig('{"Network":"10.0.0.0/8"}');
    const signal = new AbortController().signal;
    const started = performance.now();
    const leases = await Promise.all(Array.from({ length: n }, (_, i) =>
      store.acquire(config, { attrs: { publicIp: `172.16.${i >> 8}.${i & 255}`, backendType: 'vxlan' } }, signal)));
    const wallMs = performance.now() - started;
    const distinct = new Set(leases.map((l) => l.key)).size;
    const requests = Object.values(store.requestCounts()).reduce((a, b) => a + b, 0);
    const counts = store.requestCounts();
    const suite = 'leases';
    return [
      { suite, metric: `${n} concurrent acquisitions: wall time`, value: wallMs / 1000, unit: 's', note: `${distinct} distinct subnets` },
      { suite, metric: `${n} concurrent acquisitions: rate`, value: n / (wallMs / 1000), unit: 'acq/s' },
      { suite, metric: 'etcd requests per acquisition', value: requests / n, unit: 'req', note: Object.entries(counts).map(([k, v]) => `${k} ${(v / n).toFixed(2)}`).join(', ') },
      { suite, metric: 'lost create races retried per acquisition', value: ((counts.txn ?? 0) - n) / n, unit: 'retries' },
    ];
  } finally {
    client.close();
    await etcd.destroy();
  }
}
