import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Check, endpointUrl, ipAddress, pemFile, regularFilePath, shellVariableName } from './checks.ts';

const dir = mkdtempSync(join(tmpdir(), 'tartan-checks-'));
const pem = (label: string): string => `-----BEGIN ${label}-----\nMIIB\n-----END ${label}-----\n`;
writeFileSync(join(dir, 'ca.pem'), pem('CERTIFICATE'));
writeFileSync(join(dir, 'key.pem'), pem('EC PRIVATE KEY'));
writeFileSync(join(dir, 'not.pem'), 'hello\n');
symlinkSync('/proc/self', join(dir, 'proc-link'));

const cases: { description: string; check: Check; value: string; ok: boolean }[] = [
  { description: 'endpoint http', check: endpointUrl, value: 'http://127.0.0.1:2379', ok: true },
  { description: 'endpoint https IPv6', check: endpointUrl, value: 'https://[::1]:2379', ok: true },
  { description: 'endpoint with user:password', check: endpointUrl, value: 'http://user:hunter2@host:2379', ok: true },
  { description: 'endpoint unclosed IPv6 bracket', check: endpointUrl, value: 'http://[::1', ok: false },
  { description: 'endpoint port 99999', check: endpointUrl, value: 'http://host:99999', ok: false },
  { description: 'endpoint port 0', check: endpointUrl, value: 'http://host:0', ok: false },
  { description: 'endpoint no scheme', check: endpointUrl, value: 'host:2379', ok: false },
  { description: 'endpoint unix scheme', check: endpointUrl, value: 'unix:///run/etcd.sock', ok: false },
  { description: 'endpoint with a path', check: endpointUrl, value: 'http://host:2379/v3', ok: false },
  { description: 'IPv4', check: ipAddress, value: '127.0.0.1', ok: true },
  { description: 'IPv6', check: ipAddress, value: '::', ok: true },
  { description: 'host name is not an IP', check: ipAddress, value: 'localhost', ok: false },
  { description: 'IPv4 out of range', check: ipAddress, value: '256.0.0.1', ok: false },
  { description: 'shell name', check: shellVariableName, value: 'DOCKER_OPTS', ok: true },
  { description: 'shell name with a space', check: shellVariableName, value: 'BAD KEY', ok: false },
  { description: 'shell name starting with a digit', check: shellVariableName, value: '1OPTS', ok: false },
  { description: 'shell name with $(…)', check: shellVariableName, value: 'X$(reboot)', ok: false },
  { description: 'file path to create', check: regularFilePath, value: join(dir, 'run', 'subnet.env'), ok: true },
  { description: 'existing file', check: regularFilePath, value: join(dir, 'ca.pem'), ok: true },
  { description: 'a directory', check: regularFilePath, value: dir, ok: false },
  { description: 'under /proc', check: regularFilePath, value: '/proc/x', ok: false },
  { description: '/proc itself', check: regularFilePath, value: '/proc', ok: false },
  { description: 'under /sys, not yet existing', check: regularFilePath, value: '/sys/no/such/file', ok: false },
  { description: 'under /proc through a symlink', check: regularFilePath, value: join(dir, 'proc-link', 'environ'), ok: false },
  { description: 'relative path into /proc', check: regularFilePath, value: `${'../'.repeat(30)}proc/1/environ`, ok: false },
  { description: 'a name that only starts like /proc', check: regularFilePath, value: join(dir, 'procedures.env'), ok: true },
  { description: 'PEM certificate', check: pemFile('CERTIFICATE'), value: join(dir, 'ca.pem'), ok: true },
  { description: 'PEM key', check: pemFile('PRIVATE KEY'), value: join(dir, 'key.pem'), ok: true },
  { description: 'key where a certificate is wanted', check: pemFile('CERTIFICATE'), value: join(dir, 'key.pem'), ok: false },
  { description: 'missing PEM file', check: pemFile('CERTIFICATE'), value: join(dir, 'missing.pem'), ok: false },
  { description: 'not PEM', check: pemFile('CERTIFICATE'), value: join(dir, 'not.pem'), ok: false },
  { description: 'a directory as PEM', check: pemFile('CERTIFICATE'), value: dir, ok: false },
];

describe('flag value checks', () => {
  for (const c of cases) {
    test(`${c.ok ? 'accepts' : 'refuses'} ${c.description}`, () => {
      const problem = c.check(c.value);
      if (c.ok) assert.equal(problem, undefined);
      else assert.equal(typeof problem, 'string');
    });
  }
});
