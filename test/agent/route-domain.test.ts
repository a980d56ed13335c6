// Route domain from the instance metadata services, against local servers that
// answer as IMDSv2, the GCE metadata server and Alibaba's metadata do.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { detectRouteDomain } from '../../src/agent/route-domain.ts';

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

describe('route domain from instance metadata', () => {
  test('AWS IMDSv2: token first, then the VPC of the primary interface', async () => {
    const srv = await serve((req, res) => {
      if (req.method === 'PUT' && req.url === '/latest/api/token' && req.headers['x-aws-ec2-metadata-token-ttl-seconds']) return res.end('TOKEN');
      if (req.headers['x-aws-ec2-metadata-token'] !== 'TOKEN') return res.writeHead(401).end();
      const answers: Record<string, string> = {
        '/latest/meta-data/mac': '0a:1b:2c:3d:4e:5f',
        '/latest/meta-data/network/interfaces/macs/0a:1b:2c:3d:4e:5f/vpc-id': 'vpc-0abc',
        '/latest/meta-data/instance-id': 'i-0123',
      };
      const body = answers[req.url ?? ''];
      return body ? res.end(body) : res.writeHead(404).end();
    });
    try {
      const { domain, error } = await detectRouteDomain({ cloud: 'aws', endpoint: srv.url, timeoutMs: 1000 });
      assert.equal(error, undefined);
      assert.deepEqual(domain, { id: 'aws:vpc-0abc', instanceId: 'i-0123' });
    } finally {
      await srv.close();
    }
  });

  test('GCE: Metadata-Flavor header, network and zone resolved', async () => {
    const srv = await serve((req, res) => {
      if (req.headers['metadata-flavor'] !== 'Google') return res.writeHead(403).end();
      const answers: Record<string, string> = {
        '/computeMetadata/v1/instance/network-interfaces/0/network': 'projects/123456/networks/prod',
        '/computeMetadata/v1/project/project-id': 'acme',
        '/computeMetadata/v1/instance/zone': 'projects/123456/zones/europe-west1-b',
        '/computeMetadata/v1/instance/name': 'node-1',
      };
      const body = answers[req.url ?? ''];
      return body ? res.end(body) : res.writeHead(404).end();
    });
    try {
      const { domain } = await detectRouteDomain({ cloud: 'gce', endpoint: srv.url, timeoutMs: 1000 });
      assert.deepEqual(domain, { id: 'gce:projects/acme/global/networks/prod', instanceId: 'zones/europe-west1-b/instances/node-1' });
    } finally {
      await srv.close();
    }
  });

  test('Alibaba metadata', async () => {
    const srv = await serve((req, res) => res.end(req.url === '/latest/meta-data/vpc-id' ? 'vpc-ali1' : 'i-ali1'));
    try {
      assert.deepEqual((await detectRouteDomain({ cloud: 'ali', endpoint: srv.url, timeoutMs: 1000 })).domain, { id: 'ali:vpc-ali1', instanceId: 'i-ali1' });
    } finally {
      await srv.close();
    }
  });

  test('no answer within the timeout → none, with the reason, never a hang', async () => {
    const srv = await serve(() => { /* never answers */ });
    try {
      const started = Date.now();
      const { domain, error } = await detectRouteDomain({ cloud: 'aws', endpoint: srv.url, timeoutMs: 300 });
      assert.equal(domain.id, 'none');
      assert.match(error ?? '', /timeout|aborted/i);
      assert.ok(Date.now() - started < 3000);
    } finally {
      await srv.close();
    }
  });
});
