import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidInputError } from '../../src/errors.ts';
import { silentLogger } from '../../src/observe/log.ts';
import type { ProviderStart } from '../shared/settings.ts';
import { bucketFor, type GceProviderOptions, optionsFromFlags, resolveOptions } from './options.ts';

const base: GceProviderOptions = { project: 'tartan-test', network: 'tartan-net', clusterName: 'prod', clusterNetworks: ['10.244.0.0/16'] };

test('client buckets never exceed the budget in any window, wherever its edges fall', () => {
  const cases = [
    { description: 'documented 1,500/min at 90%', limit: 1500, budget: 0.9, windowMs: 60_000 },
    { description: 'small quota, short window', limit: 20, budget: 0.9, windowMs: 1000 },
    { description: 'whole quota', limit: 600, budget: 1, windowMs: 60_000 },
  ];
  for (const c of cases) {
    const b = bucketFor(c.limit, c.budget, c.windowMs);
    const worst = b.capacity + (b.refillPerSecond * c.windowMs) / 1000;
    assert.ok(worst <= c.limit * c.budget + 1e-9, `${c.description}: ${worst} > ${c.limit * c.budget}`);
    assert.ok(worst >= c.limit * c.budget - 1, `${c.description}: the budget is used (${worst})`);
    assert.ok(b.capacity >= 1 && b.capacity <= Math.max(1, c.limit / 60), `${c.description}: burst stays small (${b.capacity})`);
  }
});

test('the documented limits give about 22 calls per second per group', () => {
  const o = resolveOptions(base);
  assert.equal(o.writeBucket.capacity, 22);
  assert.ok(Math.abs(o.writeBucket.refillPerSecond - (1350 - 22) / 60) < 1e-9);
  assert.deepEqual(o.readBucket, o.writeBucket);
});

test('credentials: static token from the option, or from the environment only with an endpoint override', () => {
  assert.equal(resolveOptions({ ...base, env: { GOOGLE_OAUTH_ACCESS_TOKEN: 'env-tok' } }).accessToken, undefined, 'no override: application default credentials');
  assert.equal(resolveOptions({ ...base, endpoint: 'https://compute.example', env: { GOOGLE_OAUTH_ACCESS_TOKEN: 'env-tok' } }).accessToken, 'env-tok');
  assert.equal(resolveOptions({ ...base, endpoint: 'http://127.0.0.1:1', accessToken: 'opt', env: { GOOGLE_OAUTH_ACCESS_TOKEN: 'env' } }).accessToken, 'opt');
  assert.equal(resolveOptions({ ...base, accessToken: 'opt' }).accessToken, 'opt');
});

test('an http endpoint without a static token is refused (ADC never goes out in clear text)', () => {
  assert.throws(() => resolveOptions({ ...base, endpoint: 'http://127.0.0.1:8080', env: {} }),
    (e: unknown) => e instanceof InvalidInputError && e.field === 'accessToken');
  assert.doesNotThrow(() => resolveOptions({ ...base, endpoint: 'https://compute.example', env: {} }));
});

test('bad options name the field', () => {
  const bad: [Partial<GceProviderOptions>, string][] = [
    [{ project: 'X' }, 'project'],
    [{ network: 'Bad_Net' }, 'network'],
    [{ clusterNetworks: [] }, 'clusterNetworks'],
    [{ clusterNetworks: ['10.244.0.1/16'] }, 'clusterNetworks[0]'],
    [{ endpoint: 'ftp://x' }, 'endpoint'],
    [{ pageSize: 501 }, 'pageSize'],
    [{ routeQuota: 0 }, 'routeQuota'],
    [{ rateLimits: { budget: 1.5 } }, 'rateLimits.budget'],
  ];
  for (const [patch, field] of bad) {
    assert.throws(() => resolveOptions({ ...base, ...patch }), (e: unknown) => e instanceof InvalidInputError && e.field === field, field);
  }
});

test('operations are never polled more than 5 times a second', () => {
  assert.equal(resolveOptions({ ...base, operationPollIntervalMs: 10 }).operationPollIntervalMs, 200);
  assert.equal(resolveOptions({ ...base, operationPollIntervalMs: 1000 }).operationPollIntervalMs, 1000);
});

test('options from the CLI flags: --project and --network are required, by flag name', () => {
  const start = (flags: Partial<ProviderStart['flags']>): ProviderStart => ({
    flags: { 'cluster-name': 'prod', ...flags }, clusterNetworks: ['10.244.0.0/16'], env: {}, logger: silentLogger(), backendOption: () => undefined,
  });
  assert.throws(() => optionsFromFlags(start({ network: 'net' })), (e: unknown) => e instanceof InvalidInputError && e.field === '--project');
  assert.throws(() => optionsFromFlags(start({ project: 'tartan-test' })), (e: unknown) => e instanceof InvalidInputError && e.field === '--network');
  const o = optionsFromFlags(start({ project: 'tartan-test', network: 'net', 'route-quota': 40, 'cloud-endpoint': 'https://compute.example' }));
  assert.deepEqual([o.project, o.network, o.clusterName, o.routeQuota, o.endpoint], ['tartan-test', 'net', 'prod', 40, 'https://compute.example']);
});
