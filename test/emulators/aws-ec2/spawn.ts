// The emulator in a process of its own (as EC2 is to a controller): its clock and
// call-log times are then not held up by the client's work in the same event loop.
import { collectOutput, spawnTracked, stopChild } from '../../support/process.ts';
import { type EmulatorAdmin, remoteAdmin } from './admin.ts';

export interface SpawnedEmulator {
  readonly endpoint: string;
  readonly admin: EmulatorAdmin;
  close(): Promise<void>;
}

/** Starts `node test/emulators/aws-ec2 --port 0 …args` and waits for its endpoint line. */
export async function spawnAwsEmulator(args: readonly string[] = []): Promise<SpawnedEmulator> {
  const child = spawnTracked(process.execPath, ['test/emulators/aws-ec2', '--port', '0', ...args], { cwd: new URL('../../../', import.meta.url).pathname });
  const output = collectOutput(child);
  try {
    const line = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`emulator printed no endpoint: ${output.text()}`)), 15_000);
      const check = (): void => {
        const found = output.lines.find((l) => l.startsWith('{'));
        if (found) {
          clearTimeout(timer);
          resolve(found);
        }
      };
      child.stdout?.on('data', check);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`emulator exited (${code}): ${output.text()}`));
      });
    });
    const { endpoint } = JSON.parse(line) as { endpoint: string };
    return { endpoint, admin: remoteAdmin(endpoint), close: async () => { await stopChild(child); } };
  } catch (err) {
    await stopChild(child);
    throw err;
  }
}
