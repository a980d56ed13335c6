import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConflictError, RetryableError } from '../../src/errors.ts';
import { OUTCOMES } from '../shared/outcomes.ts';
import { routeTableConformance } from '../../test/conformance/route-table.ts';
import { FakeCloud } from './provider.ts';

routeTableConformance('fake', async () => {
  const cloud = new FakeCloud({ clusterNetworks: ['10.244.0.0/16'], tables: ['rtb-1'], quota: 50 });
  const hosts = [1, 2, 3].map((i) => ({
    host: { publicIp: `192.168.0.${i}` },
    nextHop: { kind: 'instance' as const, id: `i-${i}` },
  }));
  for (const { host, nextHop } of hosts) cloud.addInstance(host.publicIp, nextHop);
  return {
    provider: cloud,
    table: 'rtb-1',
    clusterNetwork: '10.244.0.0/16',
    hosts,
    outsideHost: { publicIp: '172.16.0.9' },
    absentNextHop: { kind: 'instance', id: 'i-404' },
    setQuota: async (q) => cloud.setQuota('rtb-1', q),
    seedForeignRoute: async (d, hop) => cloud.seedRoute('rtb-1', d, hop, false),
    setPageSize: async (n) => cloud.setPageSize(n),
    injectFaults: async ({ throttle = 0, serverErrors = 0 }) =>
      cloud.injectFaults(...Array.from({ length: throttle + serverErrors }, () => new RetryableError('injected'))),
    close: async () => {},
  };
}, {
  'throttling and 5xx are survived by retries': 'the fake has no transport; it throws injected faults to the caller, which is what controller tests need',
  'batch writes create and delete many routes': 'the fake models the single-route clouds; batch writes are conformed by alicloud against its emulator',
  'host preparation answers for every next hop': 'the fake has no hosts to prepare; preparation is conformed by aws and gce against their emulators',
});

test('injected faults are counted under the shared outcome labels', async () => {
  const cloud = new FakeCloud({ clusterNetworks: ['10.244.0.0/16'] });
  cloud.injectFaults(new RetryableError('slow down'), new ConflictError('taken'), new Error('?'));
  for (let i = 0; i < 4; i++) await cloud.tables().catch(() => undefined);
  assert.deepEqual(cloud.calls().tables, { throttled: 1, conflict: 1, other: 1, ok: 1 });
  assert.ok(Object.keys(cloud.calls().tables ?? {}).every((label) => (OUTCOMES as readonly string[]).includes(label)));
});
