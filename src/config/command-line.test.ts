import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidInputError } from '../errors.ts';
import { redactText } from '../observe/redact.ts';
import { parseCommandLine } from './command-line.ts';
import { flagTable } from './flags.ts';

const COMMAND = {
  name: 'demo',
  summary: 'A demo command.',
  flags: flagTable([
    { name: 'subnet-file', type: 'string', default: '/run/flannel/subnet.env', help: 's' },
    { name: 'password', type: 'string', secret: true, help: 'p' },
    { name: 'netns', type: 'string', hidden: true, help: 'n' },
  ]),
};

const helpCases: { description: string; argv: string[] }[] = [
  { description: '-h alone', argv: ['-h'] },
  { description: '--help in the middle', argv: ['--subnet-file', '/x', '--help', '--password', 'p'] },
  { description: '-h after an unknown flag and a bad value', argv: ['--bogus', '-h'] },
  { description: '-h with stray words', argv: ['stray', '-h'] },
];
for (const c of helpCases) {
  test(`help wins: ${c.description}`, () => {
    const help = parseCommandLine(COMMAND, c.argv, {}).help ?? '';
    assert.ok(help.startsWith('Usage: tartan demo [flags]'));
    assert.ok(help.includes('--subnet-file') && !help.includes('--netns'), 'hidden flags stay out of help');
  });
}

test('stray words are an error naming them', () => {
  assert.throws(() => parseCommandLine(COMMAND, ['--subnet-file', '/x', 'agent', 'now'], {}), (err: unknown) =>
    err instanceof InvalidInputError && err.field === 'arguments' && err.message.includes('stray words') && err.message.includes('"agent now"'));
  assert.throws(() => parseCommandLine(COMMAND, ['-x'], {}), InvalidInputError);
});

test('a secret flag value is redacted from every message afterwards', () => {
  const line = parseCommandLine(COMMAND, ['--password', 'hunter2-secret'], {});
  assert.equal(line.help, undefined);
  assert.equal(redactText('login with hunter2-secret failed'), 'login with *** failed');
});
