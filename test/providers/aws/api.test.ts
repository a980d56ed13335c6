// api.ts's hook for the rate limiter: awaited inside the SDK pipeline, once per
// request, and nothing leaves before it resolves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startAwsEmulator } from '../../emulators/aws-ec2/emulator.ts';
import { createEc2Api, type Ec2Operation } from '../../../providers/aws/api.ts';

test('beforeSend runs once per request, and the request waits for it', async () => {
  const emu = await startAwsEmulator({ limits: { enabled: false } });
  const seen: Ec2Operation[] = [];
  let release: () => void = () => {};
  let gate: Promise<void> = Promise.resolve();
  const api = createEc2Api({
    region: 'us-east-1', endpoint: emu.endpoint, credentials: { accessKeyId: 'AKIDHOOK', secretAccessKey: 's' },
    beforeSend: async (operation) => {
      seen.push(operation);
      await gate;
    },
  });
  const signal = new AbortController().signal;
  try {
    const vpcId = (await emu.admin.seedVpc({ cidr: '10.0.0.0/16' })).id;
    const table = (await emu.admin.seedRouteTable({ vpcId })).id;
    gate = new Promise((resolve) => { release = resolve; });
    const pending = api.deleteRoute({ table, destination: '10.0.0.0/16' }, signal).catch((err: unknown) => err);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(seen, ['DeleteRoute']);
    assert.deepEqual(await emu.admin.calls(), [], 'nothing was sent while beforeSend was pending');
    release();
    await pending;
    assert.deepEqual((await emu.admin.calls()).map((c) => c.action), ['DeleteRoute']);
    await api.describeRouteTables({ ids: [table] }, signal);
    assert.deepEqual(seen, ['DeleteRoute', 'DescribeRouteTables']);
  } finally {
    api.close();
    await emu.close();
  }
});
