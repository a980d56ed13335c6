import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CniError } from './errors.ts';
import { parseNetConf } from './netconf.ts';

describe('parseNetConf', () => {
  test("kube-flannel's entry: defaults for subnetFile and dataDir", () => {
    const c = parseNetConf(JSON.stringify({ cniVersion: '0.3.1', name: 'cbr0', type: 'flannel', delegate: { hairpinMode: true, isDefaultGateway: true } }));
    assert.deepEqual(c, {
      cniVersion: '0.3.1', name: 'cbr0', subnetFile: '/run/flannel/subnet.env', dataDir: '/var/lib/cni/flannel',
      delegate: { hairpinMode: true, isDefaultGateway: true }, ipam: undefined, runtimeConfig: undefined, prevResult: undefined,
    });
  });

  test('explicit keys are kept', () => {
    const c = parseNetConf(JSON.stringify({
      cniVersion: '1.0.0', name: 'n', type: 'flannel', subnetFile: '/x/s.env', dataDir: '/x/d',
      ipam: { routes: [{ dst: '0.0.0.0/0' }] }, runtimeConfig: { portMappings: [] }, prevResult: { cniVersion: '1.0.0' },
    }));
    assert.equal(c.subnetFile, '/x/s.env');
    assert.equal(c.dataDir, '/x/d');
    assert.deepEqual(c.ipam, { routes: [{ dst: '0.0.0.0/0' }] });
    assert.deepEqual(c.runtimeConfig, { portMappings: [] });
    assert.deepEqual(c.delegate, {});
  });

  const bad: { description: string; input: string; code: number; error: RegExp }[] = [
    { description: 'not JSON', input: '{', code: 6, error: /network config on stdin is not JSON/ },
    { description: 'not an object', input: '[]', code: 6, error: /must be a JSON object/ },
    { description: 'no name', input: '{"type":"flannel"}', code: 7, error: /^network config: name: must be a non-empty string \(got nothing\)/ },
    { description: 'delegate not an object', input: '{"name":"n","delegate":"bridge"}', code: 7, error: /^network config: delegate: must be an object \(got "bridge"\)/ },
    { description: 'delegate.type not a string', input: '{"name":"n","delegate":{"type":5}}', code: 7, error: /^network config: delegate\.type: must be a string \(got 5\)/ },
    { description: 'delegate.name set', input: '{"name":"n","delegate":{"name":"x"}}', code: 7, error: /^network config: delegate\.name: must not be set/ },
    { description: 'delegate.ipam set', input: '{"name":"n","delegate":{"ipam":{}}}', code: 7, error: /^network config: delegate\.ipam: must not be set/ },
    { description: 'subnetFile not a string', input: '{"name":"n","subnetFile":1}', code: 7, error: /^network config: subnetFile: must be a string/ },
    { description: 'ipam.routes entry without dst', input: '{"name":"n","ipam":{"routes":[{"gw":"1.2.3.4"}]}}', code: 7, error: /^network config: ipam\.routes\[0\]\.dst: must be a string/ },
  ];
  for (const c of bad) {
    test(`error: ${c.description}`, () => {
      assert.throws(() => parseNetConf(c.input), (err: unknown) => {
        assert.ok(err instanceof CniError);
        assert.equal(err.code, c.code);
        assert.match(err.message, c.error);
        return true;
      });
    });
  }
});
