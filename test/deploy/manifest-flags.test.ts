// Every container of deploy/kubernetes/tartan.yaml passes only flags its tartan
// command lists in its own `--help` (bin/tartan.js, as the image runs it): the
// agent's, the controller's and install-cni's.
//
// WRITTEN AHEAD OF THE CODE: the Kubernetes-mode flags (agent --kube-subnet-mgr;
// controller --kube-subnet-mgr, --leader-elect-resource-namespace; the
// install-cni command) were being added when this test was written, so it failed
// until they landed. A failure names the command and the missing flags.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { kubeHarness } from '../emulators/kube-apiserver/fixture.ts';
import { type KubeObject, MANIFEST, manifestObjects, podContainers } from './manifest.ts';

/** The flag names `tartan <command> --help` lists (lines "  --name <type>" or "  -h, --help"). */
async function helpFlags(command: string): Promise<Set<string>> {
  const { stdout } = await promisify(execFile)(process.execPath, ['bin/tartan.js', command, '--help'], { timeout: 30_000 });
  const names = [...stdout.matchAll(/^ {2}(?:-\w, )?--([a-z0-9-]+)/gm)].map((m) => m[1]!);
  assert.ok(names.length > 0, `tartan ${command} --help lists flags:\n${stdout}`);
  return new Set(names);
}

/** The flag names in a container's args ("--name" or "--name=value"; a value after "--name" is not a flag). */
const flagsOf = (args: readonly string[]): string[] => args.filter((a) => a.startsWith('--')).map((a) => a.slice(2).split('=')[0]!);

describe(`${MANIFEST}: container args use only the flags tartan has`, () => {
  const h = kubeHarness();

  test('every tartan container (agent, install-cni, controller) passes only flags its command --help lists', async () => {
    const workloads = (await manifestObjects(h)).filter((o: KubeObject) => o.kind === 'DaemonSet' || o.kind === 'Deployment');
    const containers = workloads.flatMap((w) => { const c = podContainers(w); return [...c.init, ...c.main]; });
    const commands = containers.map((c) => c.args?.[0]);
    assert.deepEqual(commands, ['install-cni', 'agent', 'controller'], 'the manifest runs these tartan commands');
    const unknown: string[] = [];
    for (const c of containers) {
      const [command, ...args] = c.args ?? [];
      const known = await helpFlags(command!);
      const missing = flagsOf(args).filter((f) => !known.has(f));
      if (missing.length > 0) unknown.push(`tartan ${command} has no ${missing.map((f) => `--${f}`).join(', ')}`);
    }
    assert.deepEqual(unknown, [], `container "args" in ${MANIFEST} name flags the commands do not have`);
  });
});
