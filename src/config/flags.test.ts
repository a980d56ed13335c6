import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidInputError } from '../errors.ts';
import { type FlagSpec, parseDuration, parseFlags, renderHelp } from './flags.ts';

const SPECS: FlagSpec[] = [
  { name: 'etcd-endpoints', type: 'list', default: ['http://127.0.0.1:2379'], help: 'e' },
  { name: 'iface', type: 'list', default: [], help: 'i' },
  { name: 'ip-masq', type: 'boolean', default: false, help: 'm' },
  { name: 'subnet-lease-renew-margin', type: 'int', default: 60, min: 1, max: 1439, help: 'r' },
  { name: 'resync-period', type: 'duration', default: '10s', help: 'p' },
  { name: 'provider', type: 'string', choices: ['aws', 'gce'], help: 'c' },
];

describe('flags', () => {
  test('defaults, flags, repeats and comma lists', () => {
    const { values } = parseFlags(SPECS, ['--iface', 'eth0', '--iface=10.0.0.1,eth1', '--ip-masq', '--resync-period', '1m30s']);
    assert.deepEqual(values.iface, ['eth0', '10.0.0.1', 'eth1']);
    assert.equal(values['ip-masq'], true);
    assert.equal(values['resync-period'], 90_000);
    assert.deepEqual(values['etcd-endpoints'], ['http://127.0.0.1:2379']);
    assert.equal(values['subnet-lease-renew-margin'], 60);
    assert.equal(parseFlags(SPECS, []).values['resync-period'], 10_000, 'a duration default is milliseconds too');
  });

  test('TARTAN_<FLAG> env is read; the flag wins over env', () => {
    const env = { TARTAN_IP_MASQ: 'true', TARTAN_SUBNET_LEASE_RENEW_MARGIN: '30', TARTAN_ETCD_ENDPOINTS: 'http://a:1,http://b:2' };
    const { values } = parseFlags(SPECS, ['--subnet-lease-renew-margin=45'], env);
    assert.equal(values['ip-masq'], true);
    assert.equal(values['subnet-lease-renew-margin'], 45);
    assert.deepEqual(values['etcd-endpoints'], ['http://a:1', 'http://b:2']);
  });

  test('--no-<bool> turns a boolean off', () => {
    assert.equal(parseFlags(SPECS, ['--no-ip-masq'], { TARTAN_IP_MASQ: 'true' }).values['ip-masq'], false);
  });

  const bad: { description: string; argv: string[]; env?: Record<string, string>; field: string }[] = [
    { description: 'unknown flag', argv: ['--ifcae', 'eth0'], field: '--ifcae' },
    { description: 'missing value', argv: ['--iface'], field: '--iface' },
    { description: 'int out of range', argv: ['--subnet-lease-renew-margin', '1440'], field: '--subnet-lease-renew-margin' },
    { description: 'int not a number', argv: ['--subnet-lease-renew-margin', '1h'], field: '--subnet-lease-renew-margin' },
    { description: 'bad duration', argv: ['--resync-period', '10'], field: '--resync-period' },
    { description: 'bad boolean in env names the variable', argv: [], env: { TARTAN_IP_MASQ: 'maybe' }, field: 'TARTAN_IP_MASQ' },
    { description: 'choice not allowed', argv: ['--provider', 'azure'], field: '--provider' },
  ];
  for (const c of bad) {
    test(`error: ${c.description}`, () => {
      assert.throws(() => parseFlags(SPECS, c.argv, c.env ?? {}), (err: unknown) => err instanceof InvalidInputError && err.field === c.field);
    });
  }

  test('durations', () => {
    assert.equal(parseDuration('500ms', 'x'), 500);
    assert.equal(parseDuration('24h', 'x'), 86_400_000);
    assert.equal(parseDuration('1.5s', 'x'), 1500);
    assert.throws(() => parseDuration('5 s', 'x'), InvalidInputError);
  });

  test('help lists every flag with its env name', () => {
    const help = renderHelp('agent', 'summary', SPECS);
    for (const s of SPECS) assert.ok(help.includes(`--${s.name}`));
    assert.ok(help.includes('TARTAN_SUBNET_LEASE_RENEW_MARGIN'));
  });
});
