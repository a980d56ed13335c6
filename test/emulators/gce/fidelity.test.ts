// Request/response pairs compared byte for byte (server-made ids, operation
// names and timestamps masked). Key order follows the compute v1 reference's
// JSON representations: Route (routes.insert request body / routes.get), the
// Operation resource (routes.insert, globalOperations.wait), RouteList
// (routes.list: kind, id, items, nextPageToken, selfLink); errors use the
// `{"error":{"code","message","errors":[…]}}` envelope of reference/cloud-apis.md.
// Bodies are pretty-printed with two spaces and end in a newline, as Google's
// front end answers when prettyPrint is not turned off.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { type GceEmulator, startGceEmulator } from './index.ts';
import { FakeClock } from '../../../src/util/fake-clock.ts';

const P = 'fid-project';
const BASE = 'https://www.googleapis.com/compute/v1/projects/fid-project';
const clock = new FakeClock();
let emu: GceEmulator;

before(async () => {
  emu = await startGceEmulator({ clock, project: P, networks: ['net-1'], token: 't', operationTiming: { pendingMs: 10, runningMs: 10 } });
  emu.admin.addInstance({ zone: 'us-central1-a', name: 'vm-1', networkIP: '10.128.0.2' });
});
after(async () => emu.close());

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; type: string | null; text: string }> {
  const res = await fetch(`${emu.endpoint}/compute/v1/projects/${P}${path}`, {
    method, headers: { authorization: 'Bearer t', 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, type: res.headers.get('content-type'), text: mask(await res.text()) };
}

function mask(text: string): string {
  return text
    .replace(/"(id|targetId)": "\d+"/g, '"$1": "<id>"')
    .replace(/operation-\d+-[0-9a-f]+-[0-9a-f]+-[0-9a-f]+/g, 'operation-<name>')
    .replace(/default-route-[0-9a-f]{16}/g, 'default-route-<hex>')
    .replace(/"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"/g, '"<time>"');
}

const REQUEST_ID = '5c2f7a40-3b8e-4d0a-9f61-0e2d4c6b8a10';
const insertBody = {
  name: 'route-1', description: 'pods on vm-1', network: `${BASE}/global/networks/net-1`, destRange: '10.244.1.0/24',
  nextHopInstance: 'zones/us-central1-a/instances/vm-1',
};

test('routes.insert → Operation (PENDING)', async () => {
  const res = await call('POST', `/global/routes?requestId=${REQUEST_ID}`, insertBody);
  assert.equal(res.status, 200);
  assert.equal(res.type, 'application/json; charset=UTF-8');
  assert.equal(res.text, `{
  "kind": "compute#operation",
  "id": "<id>",
  "name": "operation-<name>",
  "clientOperationId": "${REQUEST_ID}",
  "operationType": "insert",
  "targetLink": "${BASE}/global/routes/route-1",
  "targetId": "<id>",
  "status": "PENDING",
  "user": "tartan-emulator@example.iam.gserviceaccount.com",
  "progress": 0,
  "insertTime": "<time>",
  "selfLink": "${BASE}/global/operations/operation-<name>"
}
`);
});

test('globalOperations.wait → Operation (DONE)', async () => {
  // The same requestId again answers the same operation: a way to learn its name.
  const insert = await fetch(`${emu.endpoint}/compute/v1/projects/${P}/global/routes?requestId=${REQUEST_ID}`, {
    method: 'POST', headers: { authorization: 'Bearer t' }, body: JSON.stringify(insertBody),
  });
  const op = (await insert.json()) as { name: string };
  await clock.advance(20);
  const res = await call('POST', `/global/operations/${op.name}/wait`);
  assert.equal(res.text, `{
  "kind": "compute#operation",
  "id": "<id>",
  "name": "operation-<name>",
  "clientOperationId": "${REQUEST_ID}",
  "operationType": "insert",
  "targetLink": "${BASE}/global/routes/route-1",
  "targetId": "<id>",
  "status": "DONE",
  "user": "tartan-emulator@example.iam.gserviceaccount.com",
  "progress": 100,
  "insertTime": "<time>",
  "startTime": "<time>",
  "endTime": "<time>",
  "selfLink": "${BASE}/global/operations/operation-<name>"
}
`);
});

test('routes.get → Route, next hop read back as a full URL', async () => {
  const res = await call('GET', '/global/routes/route-1');
  assert.equal(res.text, `{
  "kind": "compute#route",
  "id": "<id>",
  "creationTimestamp": "<time>",
  "name": "route-1",
  "description": "pods on vm-1",
  "network": "${BASE}/global/networks/net-1",
  "destRange": "10.244.1.0/24",
  "priority": 1000,
  "nextHopInstance": "${BASE}/zones/us-central1-a/instances/vm-1",
  "selfLink": "${BASE}/global/routes/route-1"
}
`);
});

test('routes.list → RouteList, one page of two with a token', async () => {
  const res = await call('GET', '/global/routes?maxResults=1');
  const token = /"nextPageToken": "([^"]+)"/.exec(res.text)?.[1];
  assert.ok(token);
  assert.equal(res.text, `{
  "kind": "compute#routeList",
  "id": "projects/${P}/global/routes",
  "items": [
    {
      "kind": "compute#route",
      "id": "<id>",
      "creationTimestamp": "<time>",
      "name": "default-route-<hex>",
      "description": "Default route to the Internet.",
      "network": "${BASE}/global/networks/net-1",
      "destRange": "0.0.0.0/0",
      "priority": 1000,
      "nextHopGateway": "${BASE}/global/gateways/default-internet-gateway",
      "selfLink": "${BASE}/global/routes/default-route-<hex>"
    }
  ],
  "nextPageToken": "${token}",
  "selfLink": "${BASE}/global/routes"
}
`);
  const last = await call('GET', `/global/routes?maxResults=1&pageToken=${token}`);
  assert.doesNotMatch(last.text, /nextPageToken/);
  assert.match(last.text, /"name": "route-1"/);
});

test('errors: 409 alreadyExists and 404 notFound', async () => {
  const conflict = await call('POST', '/global/routes', insertBody);
  assert.equal(conflict.status, 409);
  assert.equal(conflict.text, `{
  "error": {
    "code": 409,
    "message": "The resource 'projects/${P}/global/routes/route-1' already exists",
    "errors": [
      {
        "message": "The resource 'projects/${P}/global/routes/route-1' already exists",
        "domain": "global",
        "reason": "alreadyExists"
      }
    ]
  }
}
`);
  const missing = await call('GET', '/global/routes/nope');
  assert.equal(missing.status, 404);
  const body = JSON.parse(missing.text) as { error: { message: string; errors: { reason: string }[] } };
  assert.equal(body.error.errors[0]?.reason, 'notFound');
  assert.equal(body.error.message, `The resource 'projects/${P}/global/routes/nope' was not found`);
});

test('an operation that failed on quota carries error, httpErrorStatusCode and httpErrorMessage', async () => {
  emu.admin.setQuota(2);
  const op = (await (await fetch(`${emu.endpoint}/compute/v1/projects/${P}/global/routes`, {
    method: 'POST', headers: { authorization: 'Bearer t' }, body: JSON.stringify({ ...insertBody, name: 'route-2', destRange: '10.244.2.0/24' }),
  })).json()) as { name: string };
  await clock.advance(20);
  const res = await call('GET', `/global/operations/${op.name}`);
  assert.match(res.text, /"status": "DONE",\n {2}"user": "[^"]+",\n {2}"progress": 100,\n {2}"insertTime": "<time>",\n {2}"startTime": "<time>",\n {2}"endTime": "<time>",\n {2}"error": \{\n {4}"errors": \[\n {6}\{\n {8}"code": "QUOTA_EXCEEDED",\n {8}"message": "Quota 'ROUTES' exceeded. {2}Limit: 2.0 globally."\n {6}\}\n {4}\]\n {2}\},\n {2}"httpErrorStatusCode": 403,\n {2}"httpErrorMessage": "FORBIDDEN",\n {2}"selfLink"/);
});

test('prettyPrint=false answers compact JSON', async () => {
  const res = await call('GET', '/global/routes/route-1?prettyPrint=false');
  assert.match(res.text, /^\{"kind":"compute#route","id":"\d+",/);
  assert.ok(res.text.endsWith('}\n'));
});
