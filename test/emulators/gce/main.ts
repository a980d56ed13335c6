// Standalone emulator: `npx node test/emulators/gce --port 8080 [--project p]
// [--network n]... [--token t] [--pending-ms 1000] [--running-ms 4000] [--no-rate-limits]`.
// Prints one JSON line {endpoint, port, project} when listening; stops on SIGTERM / SIGINT.
import { parseArgs } from 'node:util';
import { startGceEmulator } from './server.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    project: { type: 'string' },
    network: { type: 'string', multiple: true },
    token: { type: 'string' },
    'pending-ms': { type: 'string' },
    'running-ms': { type: 'string' },
    'route-quota': { type: 'string' },
    'no-rate-limits': { type: 'boolean', default: false },
  },
});

const num = (v: string | undefined): number | undefined => (v === undefined ? undefined : Number(v));
const emulator = await startGceEmulator({
  port: Number(values.port),
  project: values.project,
  networks: values.network,
  token: values.token,
  routeQuota: num(values['route-quota']),
  operationTiming: { ...(values['pending-ms'] ? { pendingMs: Number(values['pending-ms']) } : {}), ...(values['running-ms'] ? { runningMs: Number(values['running-ms']) } : {}) },
  rateLimits: values['no-rate-limits'] ? false : undefined,
});
process.stdout.write(`${JSON.stringify({ endpoint: emulator.endpoint, port: emulator.port, project: emulator.project })}\n`);

const stop = (): void => {
  void emulator.close().then(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
