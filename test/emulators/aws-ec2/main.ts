// `npx node test/emulators/aws-ec2 --port N [--route-quota Q] [--no-limits]`: the
// emulator as its own process. Prints one JSON line with the endpoint; admin API
// at <endpoint>/_admin/<method>. Stops on SIGTERM / SIGINT.
import { parseArgs } from 'node:util';
import { startAwsEmulator } from './emulator.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    'route-quota': { type: 'string', default: '50' },
    'no-limits': { type: 'boolean', default: false },
  },
});

const emulator = await startAwsEmulator({
  port: Number(values.port),
  routeQuota: Number(values['route-quota']),
  limits: { enabled: !values['no-limits'] },
});
console.log(JSON.stringify({ endpoint: emulator.endpoint, admin: `${emulator.endpoint}/_admin/` }));

const stop = (): void => {
  emulator.close().then(() => process.exit(0), () => process.exit(1));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
