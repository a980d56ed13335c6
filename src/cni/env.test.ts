import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCniEnv } from './env.ts';

const full = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'abc-1', CNI_NETNS: '/var/run/netns/p1', CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin' };

describe('parseCniEnv', () => {
  test('ADD with every variable', () => {
    assert.deepEqual(parseCniEnv(full), { command: 'ADD', containerId: 'abc-1', netns: '/var/run/netns/p1', ifname: 'eth0', path: '/opt/cni/bin' });
  });

  const cases: { description: string; env: Record<string, string | undefined>; error?: RegExp }[] = [
    { description: 'VERSION needs nothing else', env: { CNI_COMMAND: 'VERSION' } },
    { description: 'DEL without a netns is allowed', env: { ...full, CNI_COMMAND: 'DEL', CNI_NETNS: undefined } },
    { description: 'STATUS needs only CNI_PATH', env: { CNI_COMMAND: 'STATUS', CNI_PATH: '/opt/cni/bin' } },
    { description: 'no CNI_COMMAND', env: {}, error: /required env variables \[CNI_COMMAND\] missing/ },
    { description: 'unknown command', env: { CNI_COMMAND: 'PUT' }, error: /unknown CNI_COMMAND "PUT"/ },
    { description: 'ADD without netns and path', env: { ...full, CNI_NETNS: '', CNI_PATH: undefined }, error: /\[CNI_NETNS,CNI_PATH\] missing for ADD/ },
    { description: 'container ID with a slash', env: { ...full, CNI_CONTAINERID: '../etc' }, error: /CNI_CONTAINERID: invalid characters/ },
    { description: 'interface name too long', env: { ...full, CNI_IFNAME: 'a-very-long-ifname' }, error: /CNI_IFNAME: .* longer than 15/ },
  ];
  for (const c of cases) {
    test(c.description, () => {
      if (!c.error) return void parseCniEnv(c.env);
      assert.throws(() => parseCniEnv(c.env), (err: unknown) => {
        assert.equal((err as { code: number }).code, 4);
        assert.match((err as Error).message, c.error!);
        return true;
      });
    });
  }
});
