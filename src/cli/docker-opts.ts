// `tartan docker-opts`: mk-docker-opts.sh — subnet.env → Docker options file.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { renderDockerOpts } from '../agent/docker-opts.ts';
import { readSubnetEnv } from '../agent/subnet-env.ts';
import { regularFilePath, shellVariableName } from '../config/checks.ts';
import { parseCommandLine } from '../config/command-line.ts';
import { flagTable } from '../config/flags.ts';
import { InvalidInputError } from '../errors.ts';

export const DOCKER_OPTS_FLAGS = flagTable([
  { name: 'subnet-file', type: 'string', default: '/run/flannel/subnet.env', check: regularFilePath, help: 'subnet.env to read (mk-docker-opts -f)' },
  { name: 'docker-opts-file', type: 'string', default: '/run/docker_opts.env', check: (v) => (v === '-' ? undefined : regularFilePath(v)), help: 'Docker options file to write (-d); "-" for stdout' },
  { name: 'individual', type: 'boolean', default: false, help: 'write each option as its own DOCKER_OPT_* variable (-i)' },
  { name: 'combined', type: 'boolean', default: false, help: 'write the combined line (-c); with neither -i nor -c both are written' },
  { name: 'combined-key', type: 'string', default: 'DOCKER_OPTS', check: shellVariableName, help: 'variable name of the combined line (-k); a shell variable name' },
  { name: 'no-ip-masq-opt', type: 'boolean', default: false, help: 'leave out --ip-masq, for older Docker (-m)' },
]);

export const DOCKER_OPTS_SUMMARY = 'Turns subnet.env into Docker daemon options, as flannel\'s mk-docker-opts.sh does.';

export const DOCKER_OPTS_COMMAND = { name: 'docker-opts', summary: DOCKER_OPTS_SUMMARY, flags: DOCKER_OPTS_FLAGS };

export async function runDockerOpts(argv: readonly string[]): Promise<number> {
  const line = parseCommandLine(DOCKER_OPTS_COMMAND, argv, process.env);
  if (line.help !== undefined) {
    process.stdout.write(line.help);
    return 0;
  }
  const values = line.options;
  const subnetFile = values['subnet-file'];
  const env = readSubnetEnv(subnetFile);
  if (!env) throw new InvalidInputError('--subnet-file', subnetFile, 'does not exist; is the agent running?');
  const individual = values.individual;
  const combined = values.combined;
  const text = renderDockerOpts(env, {
    individual: individual || !combined,
    combined: combined || !individual,
    combinedKey: values['combined-key'],
    omitIpMasq: values['no-ip-masq-opt'],
  });
  const out = values['docker-opts-file'];
  if (out === '-') {
    process.stdout.write(text);
    return 0;
  }
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(`${out}.tmp`, text, { mode: 0o644 });
  renameSync(`${out}.tmp`, out);
  return 0;
}
