import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidInputError } from '../errors.ts';
import { endpointUrl, shellVariableName } from './checks.ts';
import { formatDuration, parseDuration } from './duration.ts';
import { type FlagOptions, flagTable, parseFlags, renderHelp, replaceFlag } from './flags.ts';

const SPECS = flagTable([
  { name: 'etcd-endpoints', type: 'list', default: ['http://127.0.0.1:2379'], check: endpointUrl, help: 'e' },
  { name: 'iface', type: 'list', default: [], help: 'i' },
  { name: 'ip-masq', type: 'boolean', default: false, help: 'm' },
  { name: 'force', type: 'boolean', help: 'f' },
  { name: 'subnet-lease-renew-margin', type: 'int', default: 60, min: 1, max: 1439, help: 'r' },
  { name: 'resync-period', type: 'duration', default: '10s', min: '1s', max: '1h', help: 'p' },
  { name: 'provider', type: 'string', choices: ['aws', 'gce'], help: 'c' },
  { name: 'combined-key', type: 'string', default: 'DOCKER_OPTS', check: shellVariableName, help: 'k' },
  { name: 'cluster-name', type: 'string', default: 'tartan', help: 'n' },
]);

// Compile-time: the options' type follows the table (a mistyped name does not compile).
type Options = FlagOptions<typeof SPECS>;
const typed: Options = parseFlags(SPECS, []).values;
typed['resync-period'] satisfies number;
typed.iface satisfies readonly string[];
typed.force satisfies boolean;
typed.provider satisfies 'aws' | 'gce' | undefined;
typed['combined-key'] satisfies string;
// @ts-expect-error: no such flag
void typed['resync-perod'];
// @ts-expect-error: a flag with no default may be undefined
typed.provider satisfies string;

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

  test('--no-<bool> turns a boolean off; a boolean with no default is false', () => {
    assert.equal(parseFlags(SPECS, ['--no-ip-masq'], { TARTAN_IP_MASQ: 'true' }).values['ip-masq'], false);
    assert.equal(parseFlags(SPECS, []).values.force, false);
  });

  test('options are frozen, lists too; given lists what was not defaulted', () => {
    const { values, given } = parseFlags(SPECS, ['--iface', 'eth0'], { TARTAN_FORCE: 'true' });
    assert.ok(Object.isFrozen(values) && Object.isFrozen(values.iface) && Object.isFrozen(values['etcd-endpoints']));
    assert.deepEqual([...given].sort(), ['force', 'iface']);
  });

  test('the table is checked once: duplicate names and duration bounds beyond a timer', () => {
    assert.throws(() => flagTable([{ name: 'a', type: 'boolean', help: '' }, { name: 'a', type: 'boolean', help: '' }]), /twice/);
    assert.throws(() => flagTable([{ name: 'p', type: 'duration', min: '1s', max: '1000h', help: '' }]), /bounds/);
    assert.throws(() => flagTable([{ name: 'p', type: 'duration', default: '2h', min: '1s', max: '1h', help: '' }]), InvalidInputError);
  });

  test('replaceFlag keeps the place and the other flags', () => {
    const table = replaceFlag(SPECS, { name: 'provider', type: 'string', choices: ['aws', 'gce', 'none'], help: 'c2' });
    assert.deepEqual(table.map((f) => f.name), SPECS.map((f) => f.name));
    assert.equal(parseFlags(table, ['--provider', 'none']).values.provider, 'none');
  });

  const bad: { description: string; argv: string[]; env?: Record<string, string>; field: string }[] = [
    { description: 'unknown flag', argv: ['--ifcae', 'eth0'], field: '--ifcae' },
    { description: 'missing value', argv: ['--iface'], field: '--iface' },
    { description: 'int out of range', argv: ['--subnet-lease-renew-margin', '1440'], field: '--subnet-lease-renew-margin' },
    { description: 'int not a number', argv: ['--subnet-lease-renew-margin', '1h'], field: '--subnet-lease-renew-margin' },
    { description: 'bad duration', argv: ['--resync-period', '10'], field: '--resync-period' },
    { description: 'bad boolean in env names the variable', argv: [], env: { TARTAN_IP_MASQ: 'maybe' }, field: 'TARTAN_IP_MASQ' },
    { description: 'choice not allowed', argv: ['--provider', 'azure'], field: '--provider' },
    { description: 'duration above its max (1000h would overflow a timer)', argv: ['--resync-period', '1000h'], field: '--resync-period' },
    { description: 'duration below its min', argv: ['--resync-period', '10ms'], field: '--resync-period' },
    { description: 'duration above its max from env', argv: [], env: { TARTAN_RESYNC_PERIOD: '2h' }, field: 'TARTAN_RESYNC_PERIOD' },
    { description: 'empty string', argv: ['--cluster-name', ''], field: '--cluster-name' },
    { description: 'empty list', argv: ['--etcd-endpoints', ''], field: '--etcd-endpoints' },
    { description: 'empty list (commas only)', argv: ['--etcd-endpoints=,,'], field: '--etcd-endpoints' },
    { description: 'list item fails its check', argv: ['--etcd-endpoints', 'http://a:1,http://[::1'], field: '--etcd-endpoints' },
    { description: 'string fails its check', argv: ['--combined-key', 'BAD KEY'], field: '--combined-key' },
    { description: 'a negated boolean given a value', argv: ['--no-force=false'], field: '--no-force' },
    { description: 'int beyond a safe integer', argv: ['--subnet-lease-renew-margin', '99999999999999999999'], field: '--subnet-lease-renew-margin' },
  ];
  for (const c of bad) {
    test(`error: ${c.description}`, () => {
      assert.throws(() => parseFlags(SPECS, c.argv, c.env ?? {}), (err: unknown) => err instanceof InvalidInputError && err.field === c.field && err.message.startsWith(c.field));
    });
  }

  test('durations', () => {
    assert.equal(parseDuration('500ms', 'x'), 500);
    assert.equal(parseDuration('24h', 'x'), 86_400_000);
    assert.equal(parseDuration('1.5s', 'x'), 1500);
    assert.throws(() => parseDuration('5 s', 'x'), InvalidInputError);
    assert.throws(() => parseDuration('9'.repeat(400) + 'h', 'x'), InvalidInputError);
    for (const [ms, text] of [[0, '0s'], [100, '100ms'], [90_000, '1m30s'], [86_400_000, '24h'], [3_600_500, '1h500ms']] as const) {
      assert.equal(formatDuration(ms), text);
      assert.equal(parseDuration(text, 'x'), ms);
    }
  });

  test('help lists every flag with its env name', () => {
    const help = renderHelp('agent', 'summary', SPECS);
    for (const s of SPECS) assert.ok(help.includes(`--${s.name}`));
    assert.ok(help.includes('TARTAN_SUBNET_LEASE_RENEW_MARGIN'));
    assert.match(help, /--resync-period <duration>\n {6}p \(default 10s; range 1s to 1h\)/);
    assert.match(help, /-h, --help/);
  });
});
