// Throttling storms with EC2's documented mutating bucket (50, refilled at 5/s) and
// the provider's default client bucket (48, 4.8/s): the provider survives
// throttling, 5xx and dropped connections without ever sending mutations faster
// than EC2's bucket allows (the emulator's call log is the proof), and two
// controllers on one account share EC2's bucket without failing. The emulator runs
// in its own process, as EC2 would.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CallRecord } from '../../emulators/aws-ec2/admin.ts';
import { DOCUMENTED_LIMITS } from '../../emulators/aws-ec2/limits.ts';
import type { BucketSpec } from '../../../providers/aws/options.ts';
import { type World, startSpawnedWorld } from './testkit.ts';

const signal = new AbortController().signal;
const SERVER: BucketSpec = DOCUMENTED_LIMITS.mutating;

let w: World;
let tables: string[];
let hosts: { id: string }[];
before(async () => {
  // EC2 runs elsewhere: its arrival times must not wait on this process's event loop.
  w = await startSpawnedWorld(['--route-quota', '1000']);
  tables = [];
  for (let i = 0; i < 2; i++) tables.push((await w.emulator.admin.seedRouteTable({ vpcId: w.vpcId, tags: { 'tartan.io/cluster': 'storm' } })).id);
  hosts = [];
  for (let i = 0; i < 4; i++) hosts.push(await w.emulator.admin.seedInstance({ vpcId: w.vpcId, privateIp: `192.168.0.${i + 1}` }));
});
after(async () => { await w.close(); });

/**
 * The lowest a bucket of `spec` would have fallen had it served these calls (arrival
 * times in ms): ≥ 0 means the calls never outran the bucket.
 */
function lowestTokens(times: readonly number[], spec: BucketSpec): number {
  let tokens = spec.capacity;
  let lowest = tokens;
  let at = times[0] ?? 0;
  for (const t of times) {
    tokens = Math.min(spec.capacity, tokens + ((t - at) / 1000) * spec.refillPerSecond) - 1;
    at = t;
    lowest = Math.min(lowest, tokens);
  }
  return lowest;
}

const mutations = (calls: readonly CallRecord[]): CallRecord[] => calls.filter((c) => c.action === 'CreateRoute');

test('a storm of throttling, 5xx and dropped connections is survived within the rate limit', async () => {
  const since = Date.now();
  const p = w.provider({ routeTables: { tag: { key: 'tartan.io/cluster', value: 'storm' } }, retry: { baseMs: 5, maxMs: 100, attempts: 10 } });
  // A controller lists its tables first; that also warms the SDK client up.
  assert.deepEqual((await p.tables(signal)).map((t) => t.id), tables);
  const create = (i: number): Promise<void> =>
    p.createRoute(tables[i % 2]!, { destination: `10.244.${i}.0/24`, nextHop: { kind: 'instance', id: hosts[i % 4]!.id } }, signal);
  // Most of the burst first, then the storm hits while the client is near the limit.
  await Promise.all(Array.from({ length: 40 }, (_, i) => create(i)));
  await w.emulator.admin.injectFaults({ serverErrors: 2, unavailable: 1, drop: 2, dropAfterProcessing: true, actions: ['CreateRoute'] });
  await w.emulator.admin.injectFaults({ throttle: 3, actions: ['CreateRoute'] });
  await Promise.all(Array.from({ length: 16 }, (_, i) => create(40 + i)));

  for (const t of tables) assert.equal((await p.listRoutes(t, signal)).owned.length, 28);
  const calls = mutations(await w.emulator.admin.calls({ since }));
  const codes = calls.reduce<Record<string, number>>((acc, c) => ({ ...acc, [c.code]: (acc[c.code] ?? 0) + 1 }), {});
  // Only the 3 injected throttles: EC2's own bucket never had to refuse a call.
  assert.deepEqual(codes, { ok: 54, RequestLimitExceeded: 3, InternalError: 2, Unavailable: 1, dropped: 2, RouteAlreadyExists: 2 });
  assert.ok(lowestTokens(calls.map((c) => c.time), SERVER) >= 0, "every attempt, failed ones included, fitted in EC2's bucket");
  // A connection cut after CreateRoute took effect: the retry meets RouteAlreadyExists, which is success.
  assert.deepEqual(p.calls().CreateRoute, {
    ok: 54, throttled: 3, server_error: 3, network: 2, conflict: 2,
  });
});

test('two controllers on one account: EC2 throttles them, both finish', async () => {
  await w.emulator.admin.setLimits({ mutating: SERVER }); // a full bucket again
  const controllers = [0, 1].map(() => w.provider({ routeTables: { ids: tables }, retry: { baseMs: 5, maxMs: 100, attempts: 20 } }));
  await Promise.all(controllers.flatMap((p, c) => Array.from({ length: 28 }, (_, i) =>
    p.createRoute(tables[c]!, { destination: `10.244.${100 + i}.0/24`, nextHop: { kind: 'instance', id: hosts[i % 4]!.id } }, signal))));
  for (const t of tables) assert.equal((await controllers[0]!.listRoutes(t, signal)).owned.length, 56);
  const throttled = controllers.map((p) => p.calls().CreateRoute?.throttled ?? 0);
  assert.ok(throttled[0]! + throttled[1]! > 0, 'the account bucket was shared, so EC2 throttled');
});
