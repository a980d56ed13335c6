// `npx node test/emulators/gce --port N`: the directory entry starts the emulator
// in its own process, which answers the SDK and the admin API and stops on SIGTERM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { RoutesClient } from '@google-cloud/compute';
import { OAuth2Client } from 'google-auth-library';
import { freePort } from '../../support/ports.ts';
import { spawnTracked, stopChild } from '../../support/process.ts';

test('standalone emulator process', async () => {
  const port = await freePort();
  const child = spawnTracked(process.execPath, ['test/emulators/gce', '--port', String(port), '--project', 'solo-project', '--token', 'solo']);
  try {
    const lines = createInterface({ input: child.stdout! });
    const [first] = (await Promise.race([
      once(lines, 'line'),
      once(child, 'exit').then(() => { throw new Error('emulator exited before listening'); }),
    ])) as [string];
    assert.deepEqual(JSON.parse(first), { endpoint: `http://127.0.0.1:${port}`, port, project: 'solo-project' });
    const seeded = await fetch(`http://127.0.0.1:${port}/_admin/instances`, {
      method: 'POST', body: JSON.stringify({ zone: 'z-1', name: 'vm', networkIP: '10.0.0.9' }),
    });
    assert.equal(seeded.status, 200);
    const authClient = new OAuth2Client();
    authClient.setCredentials({ access_token: 'solo' });
    const routes = new RoutesClient({ apiEndpoint: '127.0.0.1', port, protocol: 'http', authClient, fallback: true });
    const [items] = await routes.list({ project: 'solo-project' }, { autoPaginate: false });
    assert.deepEqual(items.map((r) => r.destRange), ['0.0.0.0/0']);
    await routes.close();
  } finally {
    assert.equal(await stopChild(child, 'SIGTERM'), 0);
  }
});
