// The Alibaba Cloud conformance harness: the VPC API emulator (short Pending/Deleting
// times) seeded by the fixture, and the real provider pointed at it. `actions` reads
// the API actions the emulator answered.
import { FAST, startAlicloudFixture } from '../emulators/alicloud/fixture.ts';
import type { RecordingHarness } from './route-table.ts';

export const ALICLOUD_GAPS = {
  'host preparation answers for every next hop': 'the provider has no ECS API (no ECS SDK is installed) to look at or change hosts',
} as const;

export async function alicloudHarness(): Promise<RecordingHarness> {
  const f = await startAlicloudFixture({
    emulator: FAST.emulator,
    // The third host has no instanceId in its lease: it resolves through the static map.
    provider: { ...FAST.provider, hostInstances: { '192.168.0.13': 'i-fixture3' } },
  });
  const hosts = f.instances.map((inst, i) => ({
    host: i < 2 ? { publicIp: inst.ip, instanceId: inst.id } : { publicIp: inst.ip },
    nextHop: { kind: 'instance' as const, id: inst.id },
  }));
  return {
    provider: f.provider,
    table: f.tableId,
    clusterNetwork: '10.244.0.0/16',
    hosts,
    outsideHost: { publicIp: '172.16.0.9' },
    absentNextHop: { kind: 'instance', id: 'i-absent' },
    setQuota: async (quota) => f.emu.admin.setTableQuota({ tableId: f.tableId, quota }),
    seedForeignRoute: async (destination, hop) => {
      f.emu.admin.seedEntry({ tableId: f.tableId, destination, name: 'someone-else', nextHops: [{ NextHopId: hop.id, NextHopType: 'Instance' }] });
    },
    setPageSize: async (n) => f.emu.admin.setPageSizeCap({ n }),
    injectFaults: async ({ throttle = 0, serverErrors = 0 }) => {
      const internal = Math.ceil(serverErrors / 2);
      f.emu.admin.injectFaults({ throttle, internal, unavailable: serverErrors - internal });
    },
    actions: async () => f.emu.admin.calls().map((c) => c.action),
    close: () => f.close(),
  };
}
