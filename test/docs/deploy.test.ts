// The deploy/ files must stay runnable: every command line in the systemd units
// and the Kubernetes manifests parses with the command's own flag table, and every
// TARTAN_* variable they set names a real flag.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { envName, parseFlags } from '../../src/config/flags.ts';
import { COMMAND_DOCS } from '../../scripts/flags-reference.ts';
import { AGENT_NODE_FLAGS } from '../bench/agent-memory.bench.ts';
import { DEPLOYED_MALLOC_ENV, DEPLOYED_NODE_FLAGS } from '../bench/controller-memory.bench.ts';

const specsOf = (command: string) => {
  const doc = COMMAND_DOCS.find((c) => c.name === command);
  assert.ok(doc, `tartan ${command} exists`);
  return doc.flags;
};
const allEnvNames = new Set(COMMAND_DOCS.flatMap((c) => c.flags.map((f) => envName(f.name))));

test('systemd units: ExecStart parses', () => {
  for (const file of readdirSync('deploy/systemd')) {
    const text = readFileSync(join('deploy/systemd', file), 'utf8');
    const exec = /^ExecStart=.*tartan\.js (\S+)(.*)$/m.exec(text);
    assert.ok(exec, `${file} has an ExecStart running tartan`);
    const [, command, rest] = exec;
    assert.doesNotThrow(() => parseFlags(specsOf(command!), rest!.trim().split(/\s+/)), `${file}: ${rest}`);
  }
});

test('kubernetes manifests: container args parse and TARTAN_* variables are real flags', () => {
  for (const file of readdirSync('deploy/kubernetes')) {
    const text = readFileSync(join('deploy/kubernetes', file), 'utf8');
    const argLists = [...text.matchAll(/args: (\[.*\])/g)].map((m) => JSON.parse(m[1]!) as string[]);
    assert.ok(argLists.length > 0, `${file} runs tartan`);
    for (const [command, ...argv] of argLists) assert.doesNotThrow(() => parseFlags(specsOf(command!), argv), `${file}: ${command} ${argv.join(' ')}`);
    for (const [, name] of text.matchAll(/^\s+(TARTAN_[A-Z_]+):/gm)) assert.ok(allEnvNames.has(name!), `${file}: ${name} is a flag's variable`);
  }
});

test("the controller's V8 flags and malloc settings in deploy/ are the ones the memory bench measures", () => {
  const want = { NODE_OPTIONS: DEPLOYED_NODE_FLAGS, ...DEPLOYED_MALLOC_ENV };
  const unit = readFileSync('deploy/systemd/tartan-controller.service', 'utf8');
  const unitEnv = Object.fromEntries([...unit.matchAll(/^Environment=(.*)$/gm)].flatMap((m) => [...m[1]!.matchAll(/"([A-Z_]+)=([^"]*)"/g)].map((v) => [v[1]!, v[2]!])));
  assert.deepEqual(unitEnv, want);
  const manifest = readFileSync('deploy/kubernetes/tartan-etcd-mode.yaml', 'utf8');
  const controller = manifest.slice(manifest.indexOf('name: tartan-controller'));
  const block = controller.slice(controller.indexOf('env:'), controller.indexOf('args: ["controller"'));
  assert.deepEqual(Object.fromEntries([...block.matchAll(/name: ([A-Z_]+), value: "([^"]*)"/g)].map((m) => [m[1]!, m[2]!])), want);
});

test("the agent's V8 flags in deploy/ are the ones the agent memory bench measures", () => {
  const unit = readFileSync('deploy/systemd/tartan-agent.service', 'utf8');
  assert.equal(/^Environment="NODE_OPTIONS=([^"]*)"$/m.exec(unit)?.[1], AGENT_NODE_FLAGS);
  const manifest = readFileSync('deploy/kubernetes/tartan-etcd-mode.yaml', 'utf8');
  assert.equal(/name: NODE_OPTIONS, value: "([^"]*)" }]\n\s+args: \["agent"/.exec(manifest)?.[1], AGENT_NODE_FLAGS);
});
