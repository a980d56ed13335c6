// Preloaded into every test process by test/run.ts (`node --import`). In a colocated
// test (src/**, providers/**: the unit tier) opening a socket, starting a server or
// a child process throws, naming the test file: those tests belong in test/, where
// the real parts are (README "Tests"). Other files are left alone.
import childProcess from 'node:child_process';
import dgram from 'node:dgram';
import { syncBuiltinESMExports } from 'node:module';
import net from 'node:net';
import { relative } from 'node:path';

/**
 * Colocated tests that still start an emulator, with the reason they may: another
 * change moves them to test/providers/ (issue 11). Delete each line when it moves.
 */
const PENDING_MOVE = new Set([
  'providers/alicloud/batch.test.ts',
  'providers/alicloud/provider.test.ts',
  'providers/aws/api.test.ts',
  'providers/aws/provider.test.ts',
  'providers/aws/storm.test.ts',
  'providers/gce/provider.test.ts',
]);

const file = relative(process.cwd(), process.argv[1] ?? '');
const colocated = /^(src|providers)\/.*\.test\.ts$/.test(file);

if (colocated && !PENDING_MOVE.has(file)) {
  const refuse = (what: string) => (): never => {
    throw new Error(`${file}: unit tests do no I/O, but this one called ${what}; move it under test/ (README "Tests")`);
  };
  net.Socket.prototype.connect = refuse('net.Socket#connect (a client connection)');
  net.Server.prototype.listen = refuse('net.Server#listen (a server)');
  dgram.createSocket = refuse('dgram.createSocket');
  for (const name of ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork'] as const) {
    (childProcess as Record<typeof name, unknown>)[name] = refuse(`child_process.${name}`);
  }
  syncBuiltinESMExports();
}
