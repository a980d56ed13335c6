import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidInputError } from '../errors.ts';
import { parseConflist } from './conflist.ts';

const F = '/etc/kube-flannel/cni-conf.json';
// kube-flannel.yml's cni-conf.json, as the ConfigMap holds it.
const KUBE_FLANNEL = '{\n  "name": "cbr0",\n  "cniVersion": "0.3.1",\n  "plugins": [\n    {\n      "type": "flannel",\n      "delegate": {\n' +
  '        "hairpinMode": true,\n        "isDefaultGateway": true\n      }\n    },\n    {\n      "type": "portmap",\n      "capabilities": {\n' +
  '        "portMappings": true\n      }\n    }\n  ]\n}\n';

describe('parseConflist', () => {
  test("kube-flannel's cni-conf.json: name, version and the two plugins in order", () => {
    const c = parseConflist(F, KUBE_FLANNEL);
    assert.equal(c.name, 'cbr0');
    assert.equal(c.cniVersion, '0.3.1');
    assert.deepEqual(c.plugins.map((p) => p['type']), ['flannel', 'portmap']);
  });

  test('no cniVersion → empty', () => {
    assert.equal(parseConflist(F, '{"name":"n","plugins":[{"type":"flannel"}]}').cniVersion, '');
  });

  const bad: { description: string; text: string; error: RegExp }[] = [
    { description: 'not JSON: the file named', text: '{"name": "cbr0",', error: /^\/etc\/kube-flannel\/cni-conf\.json: is not JSON/ },
    { description: 'a list, not an object', text: '[]', error: /cni-conf\.json: must be a JSON object/ },
    { description: 'no name', text: '{"plugins":[{"type":"flannel"}]}', error: /cni-conf\.json: name: must be a non-empty string \(got nothing\)/ },
    { description: 'cniVersion a number', text: '{"name":"n","cniVersion":1,"plugins":[{"type":"flannel"}]}', error: /cni-conf\.json: cniVersion: must be a string \(got 1\)/ },
    { description: 'a single plugin config, not a list', text: '{"name":"n","type":"flannel"}', error: /cni-conf\.json: plugins: must be a non-empty list.*\(got nothing\)/ },
    { description: 'plugins empty', text: '{"name":"n","plugins":[]}', error: /cni-conf\.json: plugins: must be a non-empty list/ },
    { description: 'plugins an object', text: '{"name":"n","plugins":{"type":"flannel"}}', error: /cni-conf\.json: plugins: must be a non-empty list/ },
    { description: 'a plugin that is not an object', text: '{"name":"n","plugins":[{"type":"flannel"},"portmap"]}', error: /cni-conf\.json: plugins\[1\]: must be an object \(got "portmap"\)/ },
    { description: 'a plugin without type', text: '{"name":"n","plugins":[{"type":"flannel"},{"capabilities":{}}]}', error: /cni-conf\.json: plugins\[1\]\.type: must be a plugin name \(got nothing\)/ },
    { description: 'no flannel plugin: the types found are shown', text: '{"name":"n","plugins":[{"type":"bridge"},{"type":"portmap"}]}', error: /cni-conf\.json: plugins: has no plugin of type "flannel".*\(got \["bridge","portmap"\]\)/ },
  ];
  for (const c of bad) {
    test(`refused: ${c.description}`, () => {
      assert.throws(() => parseConflist(F, c.text), (err: unknown) => {
        assert.ok(err instanceof InvalidInputError);
        assert.match(err.message, c.error);
        return true;
      });
    });
  }
});
