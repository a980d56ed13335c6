// A seeded emulator plus a provider pointed at it, for the conformance suite,
// provider tests and the bench: one VPC (192.168.0.0/16, one vSwitch), one
// custom route table, and N instances at 192.168.0.(10+i).
import { createAlicloudProvider, type AlicloudProviderOptions } from '../../../providers/alicloud/index.ts';
import type { AlicloudProvider } from '../../../providers/alicloud/provider.ts';
import { type AlicloudEmulator, type AlicloudEmulatorOptions, EMULATOR_ACCESS_KEY, startAlicloudEmulator } from './emulator.ts';

export const FIXTURE = {
  region: 'cn-hangzhou',
  vpcId: 'vpc-tartan',
  tableId: 'vtb-tartan',
  clusterName: 'fixture',
  clusterNetwork: '10.244.0.0/16',
} as const;

export interface AlicloudFixture {
  readonly emu: AlicloudEmulator;
  readonly provider: AlicloudProvider;
  readonly tableId: string;
  /** `i-fixture1` … with private IPs 192.168.0.11 … */
  readonly instances: readonly { readonly id: string; readonly ip: string }[];
  /** Another provider on the same emulator (another controller replica, or a test's own options). */
  makeProvider(overrides?: Partial<AlicloudProviderOptions>): AlicloudProvider;
  close(): Promise<void>;
}

export async function startAlicloudFixture(o: {
  readonly emulator?: AlicloudEmulatorOptions;
  readonly provider?: Partial<AlicloudProviderOptions>;
  readonly instances?: number;
} = {}): Promise<AlicloudFixture> {
  const emu = await startAlicloudEmulator({ ...o.emulator, settings: { regionId: FIXTURE.region, ...o.emulator?.settings } });
  emu.admin.seedVpc({ id: FIXTURE.vpcId, cidr: '192.168.0.0/16', vswitches: [{ id: 'vsw-tartan', cidr: '192.168.0.0/24' }] });
  emu.admin.seedTable({ id: FIXTURE.tableId, vpcId: FIXTURE.vpcId, name: 'tartan', tags: [{ Key: 'tartan.io/cluster', Value: FIXTURE.clusterName }] });
  const instances = Array.from({ length: o.instances ?? 3 }, (_, i) => ({ id: `i-fixture${i + 1}`, ip: `192.168.0.${11 + i}` }));
  for (const inst of instances) emu.admin.seedInstance({ id: inst.id, vpcId: FIXTURE.vpcId, privateIps: [inst.ip] });
  const makeProvider = (overrides: Partial<AlicloudProviderOptions> = {}): AlicloudProvider => createAlicloudProvider({
    regionId: FIXTURE.region,
    vpcId: FIXTURE.vpcId,
    routeTableIds: [FIXTURE.tableId],
    endpoint: emu.url,
    credentials: { accessKeyId: EMULATOR_ACCESS_KEY.id, accessKeySecret: EMULATOR_ACCESS_KEY.secret },
    clusterName: FIXTURE.clusterName,
    clusterNetworks: [FIXTURE.clusterNetwork],
    ...o.provider,
    ...overrides,
  });
  return { emu, provider: makeProvider(), tableId: FIXTURE.tableId, instances, makeProvider, close: () => emu.close() };
}

/** Settings for fast tests: short transitions, quick polls and backoff, client limits out of the way. */
export const FAST = {
  emulator: { settings: { pendingMs: 20, deletingMs: 20, modifyingMs: 20 }, rateLimits: { enabled: false } },
  provider: {
    pollIntervalMs: 5,
    retry: { baseMs: 5, maxMs: 40 },
    rateLimits: Object.fromEntries(
      ['DescribeRouteTableList', 'DescribeRouteEntryList', 'CreateRouteEntry', 'CreateRouteEntries', 'DeleteRouteEntry', 'DeleteRouteEntries', 'ModifyRouteEntry']
        .map((a) => [a, { capacity: 1000, refillPerSecond: 10_000 }]),
    ),
  },
} satisfies { emulator: AlicloudEmulatorOptions; provider: Partial<AlicloudProviderOptions> };
