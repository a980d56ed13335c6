// Standalone emulator: `npx node test/emulators/alicloud --port 8090 [--pending-ms 2000] [--demo]`.
// Prints one JSON line {endpoint, accessKeyId, accessKeySecret} and serves until SIGINT/SIGTERM.
import { parseArgs } from 'node:util';
import { EMULATOR_ACCESS_KEY, startAlicloudEmulator } from './emulator.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    region: { type: 'string', default: 'cn-hangzhou' },
    'pending-ms': { type: 'string', default: '2000' },
    'no-rate-limits': { type: 'boolean', default: false },
    demo: { type: 'boolean', default: false },
  },
});

const emu = await startAlicloudEmulator({
  port: Number(values.port),
  settings: { regionId: values.region, pendingMs: Number(values['pending-ms']), deletingMs: Number(values['pending-ms']) },
  rateLimits: { enabled: !values['no-rate-limits'] },
});
if (values.demo) {
  // One VPC, one custom route table tagged for cluster "demo", three instances.
  emu.admin.seedVpc({ id: 'vpc-demo', cidr: '192.168.0.0/16', vswitches: [{ id: 'vsw-demo', cidr: '192.168.0.0/24' }] });
  emu.admin.seedTable({ id: 'vtb-demo', vpcId: 'vpc-demo', name: 'demo', tags: [{ Key: 'tartan.io/cluster', Value: 'demo' }] });
  for (const i of [1, 2, 3]) emu.admin.seedInstance({ id: `i-demo${i}`, vpcId: 'vpc-demo', privateIps: [`192.168.0.${10 + i}`] });
}
console.log(JSON.stringify({ endpoint: emu.endpoint, accessKeyId: EMULATOR_ACCESS_KEY.id, accessKeySecret: EMULATOR_ACCESS_KEY.secret }));
const stop = (): void => {
  emu.close().then(() => process.exit(0), (err: unknown) => {
    console.error(err);
    process.exit(1);
  });
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
