// etcd stops answering (SIGSTOP on the etcd this test started, by PID; SIGCONT after):
// every request ends at its deadline or its signal, a campaign logs each failed
// attempt and retries with backoff until etcd is back, and a leader whose keepalive
// cannot get through loses leadership (its `lost` signal fires) within the TTL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Etcd3 } from 'etcd3';
import { EtcdDeadlineError } from '../../src/lease/etcd-call.ts';
import { createEtcdClient } from '../../src/lease/etcd-client.ts';
import { EtcdElector } from '../../src/lease/etcd-election.ts';
import { EtcdLeaseStore } from '../../src/lease/etcd.ts';
import { type EtcdServer, startEtcd, uniquePrefix } from '../support/etcd.ts';
import { waitFor } from '../support/wait.ts';

const TTL_S = 3;
const CALL_MS = 1000;

describe('etcd that stops answering (SIGSTOP)', () => {
  let etcd: EtcdServer;
  let client: Etcd3;
  const pause = (): void => void process.kill(etcd.pid()!, 'SIGSTOP');
  const resume = (): void => void process.kill(etcd.pid()!, 'SIGCONT');

  before(async () => {
    etcd = await startEtcd();
    client = createEtcdClient({ endpoints: [etcd.endpoint], callTimeoutMs: CALL_MS });
  });
  after(async () => {
    if (etcd?.pid()) resume();
    client?.close();
    await etcd?.destroy();
  });

  test('a read ends at its deadline, and at once when its signal aborts', async (t) => {
    const store = new EtcdLeaseStore({ client, prefix: uniquePrefix('deadline') });
    await store.list(AbortSignal.timeout(5000));
    pause();
    t.after(resume);
    let started = Date.now();
    await assert.rejects(store.list(new AbortController().signal), EtcdDeadlineError);
    const deadlineMs = Date.now() - started;
    const abort = new AbortController();
    started = Date.now();
    setTimeout(() => abort.abort(new Error('shutting down')), 100);
    await assert.rejects(store.getNetworkConfig(abort.signal), /shutting down/);
    const abortMs = Date.now() - started;
    t.diagnostic(`deadline ${deadlineMs} ms (set ${CALL_MS}), abort ${abortMs} ms after the call started (aborted at 100 ms)`);
    assert.ok(deadlineMs >= CALL_MS - 50 && deadlineMs < CALL_MS + 500, `deadline after ${deadlineMs} ms`);
    assert.ok(abortMs < 400, `abort honoured after ${abortMs} ms`);
  });

  test('mid-campaign: each attempt fails at its deadline, is logged with the reason, retried with backoff; etcd back → leads', async (t) => {
    const prefix = uniquePrefix('campaign');
    const events: { msg: string; at: number; fields: Record<string, unknown> }[] = [];
    const elector = new EtcdElector({ client, prefix, identity: 'c1', ttlSeconds: TTL_S, onEvent: (msg, fields = {}) => events.push({ msg, fields, at: Date.now() }) });
    pause();
    const stoppedAt = Date.now();
    const stop = new AbortController();
    t.after(() => stop.abort());
    const campaign = elector.campaign(stop.signal);
    campaign.catch(() => {});
    await new Promise((r) => setTimeout(r, 6000));
    resume();
    const resumedAt = Date.now();
    const leadership = await campaign;
    const ledAt = Date.now();
    const failed = events.filter((e) => e.msg === 'election attempt failed');
    t.diagnostic(`${failed.length} attempts failed while etcd was stopped (${failed.map((e) => `${e.at - stoppedAt} ms: ${String(e.fields.err)}`).join('; ')}); led ${ledAt - resumedAt} ms after SIGCONT`);
    assert.ok(failed.length >= 2 && failed.length <= 5, `${failed.length} failed attempts in 6 s: retried, with backoff, not a storm`);
    // The first names the deadline; later ones may be etcd3's circuit breaker, open after the failures.
    assert.match(String(failed[0]!.fields.err), /did not answer grant the election lease within 1000 ms/);
    assert.ok(failed.every((e) => /did not answer|circuit breaker/.test(String(e.fields.err))), 'each failure names its reason');
    const gaps = failed.slice(1).map((e, i) => e.at - failed[i]!.at);
    // Backoff from TTL/5 (600 ms, jittered) doubling up to the TTL.
    assert.ok(gaps.every((g) => g >= 250), `attempts backed off: ${gaps.join(', ')} ms apart`);
    assert.ok(ledAt - resumedAt < (TTL_S + 2) * 1000, `led ${ledAt - resumedAt} ms after etcd came back`);
    assert.equal(await elector.leader(AbortSignal.timeout(5000)), 'c1');
    await leadership.resign();
  });

  test('mid-keepalive: a leader that cannot reach etcd loses leadership within the TTL; etcd back → another takes over', async (t) => {
    const prefix = uniquePrefix('keepalive');
    const events: string[] = [];
    const a = new EtcdElector({ client, prefix, identity: 'a', ttlSeconds: TTL_S, onEvent: (msg) => events.push(msg) });
    const leadership = await a.campaign(AbortSignal.timeout(10_000));
    // Just after a keepalive went through (every TTL/3), so the measure is the worst case.
    await new Promise((r) => setTimeout(r, (TTL_S * 1000) / 3 + 100));
    pause();
    const stoppedAt = Date.now();
    t.after(resume);
    const lostAfter = await new Promise<number>((resolve) => {
      if (leadership.lost.aborted) resolve(0);
      leadership.lost.addEventListener('abort', () => resolve(Date.now() - stoppedAt), { once: true });
    });
    resume();
    t.diagnostic(`lost leadership ${lostAfter} ms after etcd stopped answering (TTL ${TTL_S * 1000} ms): ${String(leadership.lost.reason)}`);
    assert.ok(lostAfter < TTL_S * 1000, `lost after ${lostAfter} ms, TTL ${TTL_S} s`);
    assert.match(String(leadership.lost.reason), /did not answer the keepalive in time|keepalive failed/);
    const b = new EtcdElector({ client, prefix, identity: 'b', ttlSeconds: TTL_S });
    const next = await b.campaign(AbortSignal.timeout(15_000));
    assert.equal(await waitFor('b leads', async () => (await b.leader(AbortSignal.timeout(2000))) === 'b' || undefined, 10_000), true);
    await next.resign();
    await leadership.resign();
  });
});
