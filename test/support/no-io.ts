// Preloaded into every test process by test/run.ts (`node --import`). In a colocated
// test (src/**, providers/**: the unit tier) opening a socket, starting a server or
// a child process throws, naming the test file: those tests belong in test/, where
// the real parts are (README "Tests"). Other files are left alone.
import childProcess from 'node:child_process';
import dgram from 'node:dgram';
import { syncBuiltinESMExports } from 'node:module';
import net from 'node:net';
import { relative } from 'node:path';

const file = relative(process.cwd(), process.argv[1] ?? '');
const colocated = /^(src|providers)\/.*\.test\.ts$/.test(file);

if (colocated) {
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
