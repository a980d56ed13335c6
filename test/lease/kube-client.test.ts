// KubeClient against a local HTTP server: what the watch stream does with its deadlines.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeApiError, KubeClient } from '../../src/lease/kube-client.ts';

/** A plain-HTTP server whose handler is the test's; a KubeClient with a short call deadline pointed at it. */
async function serve(handler: Parameters<typeof createServer>[1]): Promise<{ client: KubeClient; close(): Promise<void> }> {
  const server: Server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const kc = new KubeConfig();
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  kc.loadFromOptions({ clusters: [{ name: 'c', server: url, skipTLSVerify: true }], users: [{ name: 'u' }], contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x' });
  const client = new KubeClient(kc, { timeoutMs: 300 });
  return {
    client,
    close: async () => {
      client.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('KubeClient.stream: the call deadline covers the answer, not the watch', () => {
  test('a watch that streams for longer than the call deadline ends only when the server ends it', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.flushHeaders(); // answered at once; the events follow over 1 s
      let n = 0;
      const timer = setInterval(() => {
        res.write(`${JSON.stringify({ type: 'BOOKMARK', object: { metadata: { resourceVersion: String(++n) } } })}\n`);
        if (n === 10) {
          clearInterval(timer);
          res.end();
        }
      }, 100);
    });
    try {
      const lines: string[] = [];
      await s.client.stream({ path: '/api/v1/nodes?watch=true', signal: new AbortController().signal, idleTimeoutMs: 1000, onLine: (l) => lines.push(l) });
      assert.equal(lines.length, 10, 'all ten events, 1 s of stream with a 300 ms call deadline');
    } finally {
      await s.close();
    }
  });

  test('no answer within the deadline is a Timeout', async () => {
    const s = await serve(() => { /* never answers */ });
    try {
      await assert.rejects(
        s.client.stream({ path: '/api/v1/nodes?watch=true', signal: new AbortController().signal, idleTimeoutMs: 1000, onLine: () => {} }),
        (err: unknown) => err instanceof KubeApiError && err.reason === 'Timeout' && /no answer within 300 ms/.test(err.message),
      );
    } finally {
      await s.close();
    }
  });

  test('silence past idleTimeoutMs ends the watch with a Timeout', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"1"}}}\n');
    });
    try {
      await assert.rejects(
        s.client.stream({ path: '/api/v1/nodes?watch=true', signal: new AbortController().signal, idleTimeoutMs: 500, onLine: () => {} }),
        (err: unknown) => err instanceof KubeApiError && /nothing received for 500 ms/.test(err.message),
      );
    } finally {
      await s.close();
    }
  });
});
