// Throttling (token buckets per account and action class, EC2's documented numbers)
// and injected faults, on a clock the tests move by hand.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type Ec2Api, createEc2Api, Ec2ApiError } from '../../../providers/aws/api.ts';
import { type AwsEmulator, startAwsEmulator } from './emulator.ts';
import { DOCUMENTED_LIMITS } from './limits.ts';
import { type ManualClock, manualClock } from './testkit.ts';

const signal = new AbortController().signal;
const throttled = (err: unknown): boolean => err instanceof Ec2ApiError && err.code === 'RequestLimitExceeded' && err.status === 503 && err.kind === 'throttled';

describe('throttling', () => {
  let clock: ManualClock;
  let emu: AwsEmulator;
  let table: string;
  let instanceId: string;
  const apis: Ec2Api[] = [];
  const apiFor = (accessKeyId: string): Ec2Api => {
    const api = createEc2Api({ region: 'us-east-1', endpoint: emu.endpoint, credentials: { accessKeyId, secretAccessKey: 's' } });
    apis.push(api);
    return api;
  };
  before(async () => {
    clock = manualClock();
    emu = await startAwsEmulator({ clock, routeQuota: 1000 });
  });
  beforeEach(async () => {
    await emu.admin.reset();
    const vpcId = (await emu.admin.seedVpc({ cidr: '10.0.0.0/16' })).id;
    table = (await emu.admin.seedRouteTable({ vpcId })).id;
    instanceId = (await emu.admin.seedInstance({ vpcId, privateIp: '10.0.0.5' })).id;
  });
  after(async () => {
    for (const api of apis) api.close();
    await emu.close();
  });
  let n = 0;
  const create = (api: Ec2Api): Promise<void> =>
    api.createRoute({ table, destination: `10.${100 + Math.floor(++n / 256)}.${n % 256}.0/24`, target: { kind: 'instance', id: instanceId } }, signal);

  test('the documented numbers are the defaults', () => {
    assert.deepEqual(DOCUMENTED_LIMITS, {
      enabled: true,
      mutating: { capacity: 50, refillPerSecond: 5 },
      describe: { capacity: 100, refillPerSecond: 20 },
      unfilteredDescribe: { capacity: 50, refillPerSecond: 10 },
    });
  });

  test('mutating calls: a burst of 50, then 5 per second, per account', async () => {
    const api = apiFor('AKIDONE');
    for (let i = 0; i < 50; i++) await create(api);
    await assert.rejects(create(api), throttled);
    clock.advance(199);
    await assert.rejects(create(api), throttled, 'less than one token after 199 ms');
    clock.advance(1);
    await create(api);
    await assert.rejects(create(api), throttled);
    clock.advance(1000);
    for (let i = 0; i < 5; i++) await create(api);
    await assert.rejects(create(api), throttled);
    await create(apiFor('AKIDOTHER')); // another account has its own bucket
    await api.describeRouteTables({ ids: [table] }, signal); // reads have their own bucket
  });

  test('filtered or paged describes: a burst of 100, then 20 per second', async () => {
    const api = apiFor('AKIDREAD');
    for (let i = 0; i < 100; i++) await api.describeInstances({ filters: [{ name: 'instance-id', values: [instanceId] }] }, signal);
    await assert.rejects(api.describeRouteTables({ maxResults: 5 }, signal), throttled);
    clock.advance(50);
    await api.describeRouteTables({ maxResults: 5 }, signal);
  });

  test('unfiltered, unpaged describes: a burst of 50, then 10 per second, apart from filtered ones', async () => {
    const api = apiFor('AKIDSCAN');
    for (let i = 0; i < 50; i++) await api.describeRouteTables({}, signal);
    await assert.rejects(api.describeRouteTables({}, signal), throttled);
    await api.describeRouteTables({ maxResults: 5 }, signal);
    clock.advance(100);
    await api.describeRouteTables({}, signal);
  });

  test('limits can be changed and switched off', async () => {
    const api = apiFor('AKIDKNOB');
    await emu.admin.setLimits({ mutating: { capacity: 2, refillPerSecond: 1 } });
    await create(api);
    await create(api);
    await assert.rejects(create(api), throttled);
    await emu.admin.setLimits({ enabled: false });
    for (let i = 0; i < 120; i++) await create(api);
  });

  test('the call log records every call with its result and time', async () => {
    const api = apiFor('AKIDLOG');
    await emu.admin.setLimits({ mutating: { capacity: 1, refillPerSecond: 1 } });
    const t0 = clock.now();
    await create(api);
    await assert.rejects(create(api), throttled);
    clock.advance(1000);
    await create(api);
    const calls = await emu.admin.calls();
    assert.deepEqual(calls.map((c) => [c.action, c.status, c.code, c.accessKeyId, c.time - t0]), [
      ['CreateRoute', 200, 'ok', 'AKIDLOG', 0],
      ['CreateRoute', 503, 'RequestLimitExceeded', 'AKIDLOG', 0],
      ['CreateRoute', 200, 'ok', 'AKIDLOG', 1000],
    ]);
    assert.equal(calls[0]!.params.RouteTableId, table);
    assert.equal(calls[0]!.params.InstanceId, instanceId);
  });
});

describe('injected faults', () => {
  let clock: ManualClock;
  let emu: AwsEmulator;
  let api: Ec2Api;
  let table: string;
  let instanceId: string;
  before(async () => {
    clock = manualClock();
    emu = await startAwsEmulator({ clock, limits: { enabled: false }, random: () => 0 });
    const vpcId = (await emu.admin.seedVpc({ cidr: '10.0.0.0/16' })).id;
    table = (await emu.admin.seedRouteTable({ vpcId })).id;
    instanceId = (await emu.admin.seedInstance({ vpcId, privateIp: '10.0.0.5' })).id;
    api = createEc2Api({ region: 'us-east-1', endpoint: emu.endpoint, credentials: { accessKeyId: 'AKIDFAULT', secretAccessKey: 's' } });
  });
  after(async () => { api.close(); await emu.close(); });
  const create = (destination: string): Promise<void> => api.createRoute({ table, destination, target: { kind: 'instance', id: instanceId } }, signal);
  const failure = (kind: string, errCode: string, status?: number) => (err: unknown): boolean =>
    err instanceof Ec2ApiError && err.kind === kind && err.code === errCode && err.status === status;

  test('the next calls fail in order: throttled, 500, 503, dropped; then calls work again', async () => {
    await emu.admin.injectFaults({ throttle: 1, serverErrors: 1, unavailable: 1, drop: 1 });
    await assert.rejects(create('10.244.1.0/24'), failure('throttled', 'RequestLimitExceeded', 503));
    await assert.rejects(create('10.244.1.0/24'), failure('server', 'InternalError', 500));
    await assert.rejects(create('10.244.1.0/24'), failure('server', 'Unavailable', 503));
    await assert.rejects(create('10.244.1.0/24'), failure('network', 'ECONNRESET'));
    await create('10.244.1.0/24');
    const routes = await emu.admin.routes({ routeTableId: table });
    assert.equal(routes.filter((r) => r.destination === '10.244.1.0/24').length, 1);
    assert.deepEqual((await emu.admin.calls()).slice(-5).map((c) => c.code), ['RequestLimitExceeded', 'InternalError', 'Unavailable', 'dropped', 'ok']);
  });

  test('a connection dropped after the action took effect leaves the route in place', async () => {
    await emu.admin.injectFaults({ drop: 1, dropAfterProcessing: true });
    await assert.rejects(create('10.244.2.0/24'), failure('network', 'ECONNRESET'));
    assert.ok((await emu.admin.routes({ routeTableId: table })).some((r) => r.destination === '10.244.2.0/24'));
  });

  test('faults can target one action', async () => {
    await emu.admin.injectFaults({ serverErrors: 1, actions: ['DeleteRoute'] });
    await create('10.244.3.0/24');
    await assert.rejects(api.deleteRoute({ table, destination: '10.244.3.0/24' }, signal), failure('server', 'InternalError', 500));
    await api.deleteRoute({ table, destination: '10.244.3.0/24' }, signal);
  });

  test('a standing 5xx rate and latency', async () => {
    await emu.admin.setFaults({ serverErrorRate: 1, latencyMs: 250 });
    const before = clock.now();
    await assert.rejects(create('10.244.4.0/24'), (err: unknown) => err instanceof Ec2ApiError && err.kind === 'server');
    assert.equal(clock.now() - before, 250, 'the answer waited for the latency');
    await emu.admin.setFaults({ serverErrorRate: 0, latencyMs: 0 });
    await create('10.244.4.0/24');
  });
});

test('quotaCountsLocal: the local route takes a place when the knob is on', async () => {
  const emu = await startAwsEmulator({ limits: { enabled: false }, quotaCountsLocal: true });
  const api = createEc2Api({ region: 'us-east-1', endpoint: emu.endpoint, credentials: { accessKeyId: 'AKIDQ', secretAccessKey: 's' } });
  try {
    const vpcId = (await emu.admin.seedVpc({ cidr: '10.0.0.0/16' })).id;
    const table = (await emu.admin.seedRouteTable({ vpcId, quota: 2 })).id;
    const instanceId = (await emu.admin.seedInstance({ vpcId, privateIp: '10.0.0.5' })).id;
    await api.createRoute({ table, destination: '10.244.1.0/24', target: { kind: 'instance', id: instanceId } }, signal);
    await assert.rejects(api.createRoute({ table, destination: '10.244.2.0/24', target: { kind: 'instance', id: instanceId } }, signal),
      (err: unknown) => err instanceof Ec2ApiError && err.code === 'RouteLimitExceeded');
  } finally {
    api.close();
    await emu.close();
  }
});
