import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Ec2Instance } from './api.ts';
import { hopsByIp } from './hosts.ts';
import { decide } from './prepare.ts';

const instance = (id: string, enis: [string, string[], boolean][], state = 'running'): Ec2Instance => ({
  id, state, vpcId: 'vpc-1', privateIp: enis[0]?.[1][0], sourceDestCheck: enis[0]?.[2],
  enis: enis.map(([eni, ips, check], i) => ({ id: eni, deviceIndex: i, privateIps: ips, sourceDestCheck: check })),
});

const instances = [
  instance('i-on', [['eni-on', ['10.0.0.1'], true]]),
  instance('i-off', [['eni-off', ['10.0.0.2'], false]]),
  instance('i-multi', [['eni-m0', ['10.0.0.3'], true], ['eni-m1', ['10.0.1.3', '10.0.1.4'], true]]),
  instance('i-dead', [], 'terminated'),
  instance('i-stopped', [['eni-s', ['10.0.0.5'], true]], 'stopped'),
];

describe('decide', () => {
  const cases = [
    { description: 'check on: fix', hop: { kind: 'instance', id: 'i-on' }, decision: { action: 'fix', instanceId: 'i-on' } },
    { description: 'check off: ok', hop: { kind: 'instance', id: 'i-off' }, decision: { action: 'ok' } },
    { description: 'primary interface with check on: fix through its instance', hop: { kind: 'eni', id: 'eni-m0' }, decision: { action: 'fix', instanceId: 'i-multi' } },
    { description: 'secondary interface with check on: fix on the interface', hop: { kind: 'eni', id: 'eni-m1' }, decision: { action: 'fix', instanceId: 'i-multi', networkInterfaceId: 'eni-m1' } },
    { description: 'terminated: reported', hop: { kind: 'instance', id: 'i-dead' }, decision: { action: 'unfixable' } },
    { description: 'unknown instance: reported', hop: { kind: 'instance', id: 'i-nope' }, decision: { action: 'unfixable' } },
    { description: 'unknown interface: reported', hop: { kind: 'eni', id: 'eni-nope' }, decision: { action: 'unfixable' } },
    { description: 'stopped with check on: fix (the attribute can be set while stopped)', hop: { kind: 'instance', id: 'i-stopped' }, decision: { action: 'fix', instanceId: 'i-stopped' } },
  ] as const;
  for (const c of cases) {
    test(c.description, () => {
      const d = decide(c.hop, instances);
      assert.equal(d.action, c.decision.action);
      if (c.decision.action === 'fix') assert.deepEqual(d, c.decision);
      if (d.action === 'unfixable') assert.match(d.reason, /\w/);
    });
  }
});

describe('hopsByIp', () => {
  test('single interface → instance; several → the interface carrying the address; only running; only wanted', () => {
    const got = hopsByIp(instances, new Set(['10.0.0.1', '10.0.1.4', '10.0.0.3', '10.0.0.5', '10.9.9.9']));
    assert.deepEqual(Object.fromEntries(got), {
      '10.0.0.1': { kind: 'instance', id: 'i-on' },
      '10.0.1.4': { kind: 'eni', id: 'eni-m1' },
      '10.0.0.3': { kind: 'eni', id: 'eni-m0' },
    });
  });
});
