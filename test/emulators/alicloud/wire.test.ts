// The wire: what the current SDK sends, the gateway's signature checks (against
// a signer written from the published V3 description in raw-client.ts, not the
// emulator's own), the JSON error body, the HTTP admin API, and the standalone process.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { AlicloudApiError, createVpcApi } from '../../../providers/alicloud/api.ts';
import { collectOutput, spawnTracked, stopChild } from '../../support/process.ts';
import { waitFor } from '../../support/wait.ts';
import { type AlicloudEmulator, EMULATOR_ACCESS_KEY, startAlicloudEmulator } from './emulator.ts';
import { type RawCall, rawCall as rawCallTo } from './raw-client.ts';

const signal = new AbortController().signal;
let emu: AlicloudEmulator;

before(async () => {
  emu = await startAlicloudEmulator({ settings: { pendingMs: 0, deletingMs: 0, modifyingMs: 0 } });
  emu.admin.seedVpc({ id: 'vpc-1', cidr: '192.168.0.0/16' });
  emu.admin.seedTable({ id: 'vtb-1', vpcId: 'vpc-1' });
  emu.admin.seedInstance({ id: 'i-1', vpcId: 'vpc-1', privateIps: ['192.168.0.11'] });
  emu.admin.seedInstance({ id: 'i-2', vpcId: 'vpc-1', privateIps: ['192.168.0.12'] });
});
after(() => emu.close());

const sdk = (secret: string = EMULATOR_ACCESS_KEY.secret, id: string = EMULATOR_ACCESS_KEY.id) =>
  createVpcApi({ regionId: 'cn-hangzhou', endpoint: emu.url, accessKeyId: id, accessKeySecret: secret });

const rawCall = (o: RawCall = {}) => rawCallTo(emu.endpoint, o);

describe('alicloud emulator: the wire', () => {
  test('the SDK sends POST /?<params> with RegionId on every call, signed with the ACS3 headers', async () => {
    emu.admin.clearCalls();
    const api = sdk();
    await api.describeRouteTableList({ vpcId: 'vpc-1', pageNumber: 1, pageSize: 10 }, signal);
    const { routeEntryId } = await api.createRouteEntry({ tableId: 'vtb-1', destination: '10.1.0.0/24', instanceId: 'i-1', name: 'n', description: 'd', clientToken: 'c1' }, signal);
    await api.describeRouteEntryList({ tableId: 'vtb-1', maxResult: 10 }, signal);
    await api.modifyRouteEntry({ routeEntryId, newInstanceId: 'i-2' }, signal);
    await api.describeRouteEntryList({ tableId: 'vtb-1', maxResult: 10 }, signal); // settles Modifying (0 ms)
    await api.deleteRouteEntry({ tableId: 'vtb-1', routeEntryId }, signal);
    await api.createRouteEntries([{ tableId: 'vtb-1', destination: '10.2.0.0/24', instanceId: 'i-1', name: 'n', description: 'd' }], signal);
    const id = (await api.describeRouteEntryList({ tableId: 'vtb-1', destination: '10.2.0.0/24', maxResult: 10 }, signal)).entries[0]!.id;
    await api.deleteRouteEntries([{ tableId: 'vtb-1', routeEntryId: id }], signal);
    const calls = emu.admin.calls();
    assert.deepEqual(calls.map((c) => c.code), calls.map(() => 'OK'));
    for (const c of calls) {
      assert.equal(c.method, 'POST');
      assert.equal(c.params.RegionId, 'cn-hangzhou', `${c.action} carries RegionId`);
      assert.deepEqual(
        c.signedHeaders.filter((h) => h !== 'x-acs-credentials-provider'),
        ['host', 'x-acs-action', 'x-acs-content-sha256', 'x-acs-date', 'x-acs-signature-nonce', 'x-acs-version'],
      );
    }
    assert.equal(calls.find((c) => c.action === 'CreateRouteEntries')?.params['RouteEntries.1.DstCidrBlock'], '10.2.0.0/24');
  });

  test('an independent signer from the published description is accepted, by query or by form body', async () => {
    assert.equal((await rawCall({})).status, 200);
    const form = await rawCall({ query: {}, body: 'RegionId=cn-hangzhou&RouteTableId=vtb-1&MaxResult=1' });
    assert.equal(form.status, 200);
    assert.equal(((form.json.RouteEntrys as { RouteEntry: unknown[] }).RouteEntry).length, 1);
  });

  test('errors come as JSON {RequestId, HostId, Code, Message, Recommend} with the request id header', async () => {
    const r = await rawCall({ drop: ['authorization'] });
    assert.equal(r.status, 400);
    assert.equal(r.headers.get('content-type'), 'application/json;charset=utf-8');
    assert.deepEqual(Object.keys(r.json), ['RequestId', 'HostId', 'Code', 'Message', 'Recommend']);
    assert.equal(r.json.Code, 'IncompleteSignature');
    assert.equal(r.json.RequestId, r.headers.get('x-acs-request-id'));
    assert.match(String(r.json.RequestId), /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/);
  });

  test('the gateway checks, each with its own code', async () => {
    const codeOf = async (o: RawCall) => {
      const r = await rawCall(o);
      return `${r.status} ${String(r.json.Code)}`;
    };
    assert.equal(await codeOf({ drop: ['x-acs-action'] }), '400 MissingParameter');
    assert.equal(await codeOf({ drop: ['x-acs-version'] }), '400 MissingParameter');
    assert.equal(await codeOf({ drop: ['x-acs-signature-nonce'] }), '400 IncompleteSignature');
    assert.equal(await codeOf({ unsigned: ['x-acs-date'] }), '400 IncompleteSignature');
    assert.equal(await codeOf({ date: '2001-01-01T00:00:00Z' }), '400 InvalidTimeStamp.Expired');
    assert.equal(await codeOf({ tamper: (h) => { h['x-acs-content-sha256'] = 'f'.repeat(64); } }), '400 SignatureDoesNotMatch');
    assert.equal(await codeOf({ tamper: (h) => { h.authorization = h.authorization!.replace(/Signature=\w+/, `Signature=${'0'.repeat(64)}`); } }), '400 SignatureDoesNotMatch');
    assert.equal(await codeOf({ version: '2014-05-26' }), '400 InvalidVersion');
    assert.equal(await codeOf({ action: 'DescribeInstances' }), '404 InvalidAction.NotFound');
    const nonce = randomUUID();
    assert.equal(await codeOf({ nonce }), '200 undefined');
    assert.equal(await codeOf({ nonce }), '400 SignatureNonceUsed');
  });

  test('the SDK with a wrong secret or an unknown key is refused', async () => {
    const read = (api: ReturnType<typeof sdk>) => api.describeRouteEntryList({ tableId: 'vtb-1', maxResult: 1 }, signal);
    await assert.rejects(read(sdk('not-the-secret')), (e: unknown) => e instanceof AlicloudApiError && e.code === 'SignatureDoesNotMatch');
    await assert.rejects(read(sdk('x', 'nobody')), (e: unknown) => e instanceof AlicloudApiError && e.code === 'InvalidAccessKeyId.NotFound' && e.status === 404);
  });

  test('the admin API over HTTP seeds and reads what the SDK then sees', async () => {
    const post = async (method: string, arg: unknown) => {
      const res = await fetch(`${emu.url}/_admin/${method}`, { method: 'POST', body: JSON.stringify(arg) });
      return { status: res.status, json: (await res.json()) as { result?: unknown; error?: string } };
    };
    assert.equal((await post('seedVpc', { id: 'vpc-http', cidr: '10.0.0.0/16' })).status, 200);
    assert.equal((await post('seedTable', { id: 'vtb-http', vpcId: 'vpc-http', name: 'from-http' })).status, 200);
    const { tables } = await sdk().describeRouteTableList({ vpcId: 'vpc-http', pageNumber: 1, pageSize: 10 }, signal);
    assert.deepEqual(tables.map((t) => t.name), ['from-http']);
    const calls = (await post('calls', {})).json.result as { action: string }[];
    assert.equal(calls.at(-1)?.action, 'DescribeRouteTableList');
    assert.equal((await post('noSuchMethod', {})).status, 404);
    assert.equal((await post('seedTable', { id: 'vtb-x', vpcId: 'vpc-none' })).status, 400);
  });

  test('standalone: `node test/emulators/alicloud --port N --demo` serves the SDK and stops on SIGTERM', async () => {
    const child = spawnTracked(process.execPath, ['test/emulators/alicloud', '--port', '0', '--demo']);
    const out = collectOutput(child);
    try {
      const line = await waitFor('the emulator\'s endpoint line', () => out.lines.find((l) => l.startsWith('{')), { timeoutMs: 10_000, everyMs: 20, details: out.text });
      const info = JSON.parse(line) as { endpoint: string; accessKeyId: string; accessKeySecret: string };
      const api = createVpcApi({ regionId: 'cn-hangzhou', endpoint: `http://${info.endpoint}`, accessKeyId: info.accessKeyId, accessKeySecret: info.accessKeySecret });
      const { tables } = await api.describeRouteTableList({ vpcId: 'vpc-demo', pageNumber: 1, pageSize: 10 }, signal);
      assert.deepEqual(tables.map((t) => t.id), ['vtb-demo']);
    } finally {
      assert.equal(await stopChild(child), 0);
    }
  });
});
