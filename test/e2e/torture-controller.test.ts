// `tartan controller` as an operator runs it (metrics server on), walked through a
// fault table (issue 18): a stalled cloud call, a 5xx storm, etcd lost (its own etcd,
// stopped and restarted by PID), durations beyond their bounds, etcd unreachable at
// start. For each: the pass loop keeps turning without a hot loop (emulator calls
// counted over a window), /readyz tells the truth within one period plus the pass
// deadline, /healthz stays 200, and every exit path has its code within a bounded time.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Etcd3 } from 'etcd3';
import { EtcdLeaseStore } from '../../src/lease/index.ts';
import { type EtcdServer, startEtcd, uniquePrefix } from '../support/etcd.ts';
import { freePort } from '../support/ports.ts';
import { type AwsWorld, acquireAll, awsControllerArgs, awsEnv, networkConfigJson, spawnController, startAwsWorld, waitFor } from './controller-kit.ts';

const RESYNC_MS = 2000;
const PASS_TIMEOUT_MS = 3000;
/** Readiness must follow the truth within one period plus the deadline (and a second of probing). */
const TRUTH_MS = RESYNC_MS + PASS_TIMEOUT_MS + 1000;

async function probe(port: number, path: string): Promise<{ status: number; body: string }> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(1000) });
    return { status: res.status, body: await res.text() };
  } catch (err) {
    return { status: 0, body: String(err) };
  }
}

async function callsIn(world: AwsWorld, ms: number): Promise<number> {
  const since = Date.now();
  await new Promise((resolve) => setTimeout(resolve, ms));
  return (await world.admin.calls({ since })).length;
}

describe('controller torture (EC2 emulator, own etcd, metrics server on)', () => {
  let etcd: EtcdServer;
  let client: Etcd3;
  let world: AwsWorld;
  before(async () => {
    etcd = await startEtcd();
    client = new Etcd3({ hosts: etcd.endpoint });
    world = await startAwsWorld({ tables: 1, quota: 100, instances: 3, limits: false });
  });
  after(async () => {
    client.close();
    await world.close();
    await etcd.destroy();
  });

  test('stall → failed pass logged, next pass runs, not ready; 5xx storm → not ready, bounded calls; etcd lost → exit 4; SIGTERM → 0', async (t) => {
    const prefix = uniquePrefix('torture-ctl');
    await client.put(`${prefix}/config`).value(networkConfigJson).exec();
    await acquireAll(new EtcdLeaseStore({ client, prefix }), world.hosts());
    const port = await freePort();
    const args = [...awsControllerArgs(world, { etcd: etcd.endpoint, prefix, quota: 100, resync: `${RESYNC_MS}ms`, ttl: '2s' }),
      '--metrics-port', String(port), '--pass-timeout', `${PASS_TIMEOUT_MS}ms`];
    const ctl = spawnController({ identity: 'torture-a', args, env: awsEnv('AKIDTORTURE') });
    t.after(() => ctl.stop('SIGKILL'));
    const fail = (what: string) => (err: Error) => { throw new Error(`${what}: ${err.message}\n${ctl.output()}`); };
    const leadingAndReady = async () => { const r = await probe(port, '/readyz'); return r.status === 200 && r.body === 'ok: leading\n'; };
    await waitFor('leading and ready', leadingAndReady, 20_000).catch(fail('ready'));

    // 1. A stalled cloud (every answer 8 s late, longer than the pass deadline).
    await world.admin.setFaults({ latencyMs: 8000 });
    const stalledAt = Date.now();
    await waitFor('not ready while stalled', async () => (await probe(port, '/readyz')).status === 503, TRUTH_MS + 2000).catch(fail('stall'));
    t.diagnostic(`stall: /readyz 503 after ${Date.now() - stalledAt} ms: ${(await probe(port, '/readyz')).body.trim()}`);
    await waitFor('a failed pass logged', () => /pass deadline of 3000 ms exceeded/.test(ctl.output()), TRUTH_MS).catch(fail('stall log'));
    const passesBefore = (ctl.output().match(/pass failed/g) ?? []).length;
    await waitFor('the next pass fails too (the loop turns)', () => (ctl.output().match(/pass failed/g) ?? []).length > passesBefore, PASS_TIMEOUT_MS + RESYNC_MS + 2000).catch(fail('next pass'));
    assert.equal((await probe(port, '/healthz')).status, 200, 'a stalled cloud is not a liveness failure');
    await world.admin.setFaults({ latencyMs: 0 });
    await waitFor('ready again', leadingAndReady, TRUTH_MS + 8000).catch(fail('recovery'));

    // 2. A 5xx storm: not ready, last_success frozen, and no hot loop.
    await world.admin.setFaults({ serverErrorRate: 1 });
    await waitFor('not ready in a 5xx storm', async () => (await probe(port, '/readyz')).status === 503, TRUTH_MS + 2000).catch(fail('storm'));
    const lastSuccess = async () => /tartan_controller_last_success_timestamp_seconds (\S+)/.exec((await probe(port, '/metrics')).body)?.[1];
    const frozen = await lastSuccess();
    const stormCalls = await callsIn(world, 4000);
    t.diagnostic(`5xx storm: ${stormCalls} EC2 calls in 4 s`);
    assert.ok(stormCalls <= 40, `no hot loop in a 5xx storm: ${stormCalls} calls in 4 s`);
    assert.equal(await lastSuccess(), frozen, 'last_success does not move on failed passes');
    assert.equal((await probe(port, '/healthz')).status, 200);
    await world.admin.setFaults({ serverErrorRate: 0 });
    await waitFor('ready after the storm', leadingAndReady, TRUTH_MS + 4000).catch(fail('storm recovery'));
    const quietCalls = await callsIn(world, 4000);
    t.diagnostic(`steady state: ${quietCalls} EC2 calls in 4 s (resync ${RESYNC_MS} ms)`);

    // 3. etcd lost: leadership lost → exit 4 within TTL + bounded time, the metrics server open.
    await etcd.stop();
    const lostAt = Date.now();
    const code = await Promise.race([ctl.exited, new Promise<string>((resolve) => setTimeout(() => resolve('still running'), 20_000))]);
    const exitMs = Date.now() - lostAt;
    t.diagnostic(`etcd stopped → exit ${code} after ${exitMs} ms`);
    await etcd.restart();
    assert.equal(code, 4, ctl.output());
    assert.match(ctl.output(), /leadership lost/);
    assert.ok(exitMs < 15_000, `exit took ${exitMs} ms`);

    // 4. SIGTERM → 0, with the metrics server open.
    const next = spawnController({ identity: 'torture-b', args, env: awsEnv('AKIDTORTURE') });
    t.after(() => next.stop('SIGKILL'));
    await waitFor('the next one leading and ready', leadingAndReady, 20_000).catch((err: Error) => { throw new Error(`${err.message}\n${next.output()}`); });
    const termAt = Date.now();
    const termCode = await next.stop('SIGTERM');
    const termMs = Date.now() - termAt;
    t.diagnostic(`SIGTERM → exit ${termCode} after ${termMs} ms`);
    // And SIGTERM while standing by (campaigning) is a clean stop too.
    const standby = spawnController({ identity: 'torture-c', args: args.filter((a) => a !== String(port) && a !== '--metrics-port'), env: awsEnv('AKIDTORTURE') });
    const other = spawnController({ identity: 'torture-d', args: args.filter((a) => a !== String(port) && a !== '--metrics-port'), env: awsEnv('AKIDTORTURE') });
    t.after(() => other.stop('SIGKILL'));
    t.after(() => standby.stop('SIGKILL'));
    await waitFor('both campaigning', () => /campaigning/.test(standby.output()) && /campaigning/.test(other.output()), 20_000);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.deepEqual([await standby.stop('SIGTERM'), await other.stop('SIGTERM')], [0, 0], `${standby.output()}\n${other.output()}`);
    assert.equal(termCode, 0, next.output());
    assert.ok(termMs < 5000, `SIGTERM exit took ${termMs} ms`);
  });

  test('durations beyond their bounds exit 2; etcd unreachable at start: waits (not ready), then exits 1 at --etcd-start-timeout', async () => {
    for (const bad of [['--resync-period', '1000h'], ['--resync-period', '1ms'], ['--pass-timeout', '0s'], ['--cloud-timeout', '1000h']]) {
      const p = spawnController({ identity: 'torture-flags', args: ['--provider', 'aws', '--region', 'us-east-1', ...bad] });
      assert.equal(await p.exited, 2, `${bad.join(' ')}: ${p.output()}`);
      assert.match(p.output(), new RegExp(bad[0]!));
    }
    const port = await freePort();
    const dead = `http://127.0.0.1:${await freePort()}`;
    const started = Date.now();
    const p = spawnController({
      identity: 'torture-noetcd',
      args: ['--etcd-endpoints', dead, '--etcd-start-timeout', '4s', '--metrics-port', String(port), '--provider', 'aws', '--region', 'us-east-1'],
    });
    const waiting = await waitFor('not ready while waiting', async () => {
      const r = await probe(port, '/readyz');
      return r.status === 503 && /waiting for etcd/.test(r.body) ? r.body : undefined;
    }, 15_000).catch((err: Error) => { throw new Error(`${err.message}\n${p.output()}`); });
    assert.match(waiting, new RegExp(`waiting for etcd at ${dead}`));
    assert.equal((await probe(port, '/healthz')).status, 200, 'waiting for etcd is not a liveness failure');
    assert.equal(await p.exited, 1, p.output());
    assert.match(p.output(), /waiting for etcd at http:\/\/127\.0\.0\.1:\d+: /);
    assert.match(p.output(), /--etcd-start-timeout/);
    assert.ok(Date.now() - started < 30_000);
  });
});
