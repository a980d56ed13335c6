// The etcd lease store's conformance fixture: a private etcd (compaction must never
// touch the shared one), the store's client behind a TCP relay that the fixture cuts,
// and a second client beside it that writes peers' leases as flanneld does (a key
// under <prefix>/subnets/ kept alive by a 24 h etcd lease).
import type { Etcd3 } from 'etcd3';
import { parseNetworkConfig } from '../../src/config/network.ts';
import { DEFAULT_LEASE_TTL_SECONDS, EtcdLeaseStore } from '../../src/lease/etcd.ts';
import { createEtcdClient } from '../../src/lease/etcd-client.ts';
import { type LeaseAttrs, encodeLeaseAttrs } from '../../src/lease/lease.ts';
import { type Relay, startRelay } from '../lab/relay.ts';
import { startEtcd } from '../support/etcd.ts';
import { freePort } from '../support/ports.ts';
import type { LeaseCaseName, LeaseStoreFixture } from './lease-store.ts';

export const ETCD_GAPS: Partial<Record<LeaseCaseName, string>> = {
  'the agent marks its node NetworkUnavailable=False': 'no Nodes in etcd mode: there is no NetworkUnavailable condition to set',
  'a second acquire with the same attrs writes nothing': 'acquire is also flannel\'s restart renewal: the own key is written again with a fresh 24 h etcd lease, so it cannot expire under a restarted agent',
};

const PREFIX = '/conformance/network';
const WRITE_KINDS = ['put', 'txn', 'delete', 'leaseGrant', 'leaseRevoke'];

export async function etcdLeaseFixture(): Promise<LeaseStoreFixture> {
  const etcd = await startEtcd();
  const port = await freePort();
  const target = { host: '127.0.0.1', port: Number(new URL(etcd.endpoint).port) };
  let relay: Relay | undefined = await startRelay({ listen: { host: '127.0.0.1', port }, connect: target });
  const client = createEtcdClient({ endpoints: [`http://127.0.0.1:${port}`] });
  const writer: Etcd3 = createEtcdClient({ endpoints: [etcd.endpoint] });
  const store = new EtcdLeaseStore({ client, prefix: PREFIX });
  let lists = 0;
  const list = store.list.bind(store);
  store.list = (signal) => { lists++; return list(signal); };
  const config = parseNetworkConfig('{"Network":"10.244.0.0/16","SubnetLen":24,"Backend":{"Type":"vxlan"}}', 'conformance');
  const peers = new Map<number, LeaseAttrs>();
  const keyOf = (i: number): string => `10.244.${i}.0-24`;
  const full = (i: number): string => `${store.subnetsPrefix}${keyOf(i)}`;
  /** A peer's write: its value on a fresh 24 h etcd lease, as flanneld's acquire and renewal do. */
  const hostWrite = async (i: number, value: string): Promise<void> => {
    const grant = await writer.leaseClient.leaseGrant({ TTL: DEFAULT_LEASE_TTL_SECONDS });
    await writer.put(full(i)).value(value).lease(grant.ID).exec();
  };
  const reopen = async (): Promise<void> => {
    relay = await startRelay({ listen: { host: '127.0.0.1', port }, connect: target });
  };
  const cut = async (): Promise<void> => {
    await relay?.close();
    relay = undefined;
  };
  return {
    store, config,
    putPeer: async (i, attrs) => {
      peers.set(i, attrs);
      await hostWrite(i, encodeLeaseAttrs(attrs));
      return keyOf(i);
    },
    deletePeer: async (i) => {
      await writer.delete().key(full(i)).exec();
    },
    touchPeer: async (i) => {
      await hostWrite(i, encodeLeaseAttrs(peers.get(i)!));
    },
    corruptPeer: async (i) => {
      await hostWrite(i, '{"PublicIP":"192.168.60.999","BackendType":"vxlan"}');
      return { key: keyOf(i), names: [keyOf(i), 'PublicIP', '192.168.60.999'] };
    },
    prepareOwn: () => Promise.resolve(undefined),
    writes: () => WRITE_KINDS.reduce((n, k) => n + (store.requestCounts()[k] ?? 0), 0),
    lists: () => lists,
    dropConnection: async () => {
      await cut();
      await reopen();
    },
    cutAndCompact: async (during) => {
      await cut();
      try {
        await during();
        const now = await writer.get(`${PREFIX}/config`).exec();
        await writer.kv.compact({ revision: now.header.revision, physical: true });
      } finally {
        await reopen();
      }
    },
    reserve: async (i, publicIp) => {
      await writer.put(full(i)).value(encodeLeaseAttrs({ publicIp, backendType: 'vxlan' })).exec();
      return keyOf(i);
    },
    close: async () => {
      client.close();
      writer.close();
      await relay?.close();
      await etcd.destroy();
    },
  };
}
