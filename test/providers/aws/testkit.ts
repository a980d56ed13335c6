// Shared setup for the provider's tests against the EC2 emulator.
import type { EmulatorAdmin } from '../../emulators/aws-ec2/admin.ts';
import { startAwsEmulator, type AwsEmulatorOptions } from '../../emulators/aws-ec2/emulator.ts';
import { spawnAwsEmulator } from '../../emulators/aws-ec2/spawn.ts';
import { createAwsProvider } from '../../../providers/aws/index.ts';
import type { AwsProviderOptions } from '../../../providers/aws/options.ts';
import type { AwsProvider } from '../../../providers/aws/provider.ts';

interface Emulator {
  readonly endpoint: string;
  readonly admin: EmulatorAdmin;
  close(): Promise<void>;
}

export interface World {
  readonly emulator: Emulator;
  readonly vpcId: string;
  /** A provider on this emulator; closed by close(). */
  provider(opts: Partial<AwsProviderOptions> & Pick<AwsProviderOptions, 'routeTables'>): AwsProvider;
  close(): Promise<void>;
}

/** The emulator in this process, with a VPC. */
export async function startWorld(emulatorOptions: AwsEmulatorOptions = {}): Promise<World> {
  return worldOn(await startAwsEmulator(emulatorOptions));
}

/** The emulator in its own process (`node test/emulators/aws-ec2 …args`), with a VPC. */
export async function startSpawnedWorld(args: readonly string[] = []): Promise<World> {
  return worldOn(await spawnAwsEmulator(args));
}

async function worldOn(emulator: Emulator): Promise<World> {
  const vpcId = (await emulator.admin.seedVpc({ cidr: '192.168.0.0/16' })).id;
  const providers: AwsProvider[] = [];
  return {
    emulator,
    vpcId,
    provider: (opts) => {
      const p = createAwsProvider({
        region: 'us-east-1',
        endpoint: emulator.endpoint,
        credentials: { accessKeyId: 'AKIDPROVIDER', secretAccessKey: 'secret' },
        clusterNetworks: ['10.244.0.0/16'],
        retry: { baseMs: 5, maxMs: 100 },
        ...opts,
      });
      providers.push(p);
      return p;
    },
    close: async () => {
      for (const p of providers) p.close();
      await emulator.close();
    },
  };
}
