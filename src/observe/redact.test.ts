import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from './log.ts';
import { redactDeep, redactText, rememberSecret } from './redact.ts';

const cases: { description: string; text: string; want: string }[] = [
  { description: 'URL password', text: 'dial http://user:hunter2@host:2379 failed', want: 'dial http://user:***@host:2379 failed' },
  { description: 'URL password in a malformed URL', text: '--etcd-endpoints: bad (got "http://u:hunter2@[::1")', want: '--etcd-endpoints: bad (got "http://u:***@[::1")' },
  { description: 'two URLs', text: 'https://a:b@x,https://c:d@y', want: 'https://a:***@x,https://c:***@y' },
  { description: 'user without password is kept', text: 'http://user@host', want: 'http://user@host' },
  { description: 'token query parameter', text: 'GET /v1?x=1&access_token=abc.def&y=2', want: 'GET /v1?x=1&access_token=***&y=2' },
  { description: 'Authorization header', text: 'Authorization: Bearer eyJhbGciOi', want: 'Authorization: Bearer ***' },
  { description: 'nothing secret', text: 'http://127.0.0.1:2379', want: 'http://127.0.0.1:2379' },
];
for (const c of cases) {
  test(`redactText: ${c.description}`, () => assert.equal(redactText(c.text), c.want));
}

test('redactDeep: secret keys, nested strings, errors', () => {
  const out = redactDeep({ password: 'p', nested: { url: 'http://a:b@c' }, err: new Error('at http://a:b@c') }) as Record<string, unknown>;
  assert.equal(out.password, '***');
  assert.deepEqual(out.nested, { url: 'http://a:***@c' });
  assert.equal((out.err as { message: string }).message, 'at http://a:***@c');
});

test('the logger redacts messages, fields and errors', () => {
  rememberSecret('etcd-pass-42');
  let text = '';
  const destination = new Writable({ write(chunk: Buffer, _enc, done) { text += chunk.toString(); done(); } });
  const log = createLogger({ destination, name: 't' });
  log.error({ err: new Error('dial http://u:hunter2@h failed'), endpoint: 'http://u:hunter2@h' }, 'cannot reach http://u:hunter2@h with etcd-pass-42');
  assert.doesNotMatch(text, /hunter2|etcd-pass-42/);
  assert.match(text, /u:\*\*\*@h/);
});
