// `tartan docker-opts`: mk-docker-opts.sh — subnet.env → Docker options file.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { renderDockerOpts } from '../agent/docker-opts.ts';
import { readSubnetEnv } from '../agent/subnet-env.ts';
import { type FlagSpec, bool, parseFlags, renderHelp, str } from '../config/flags.ts';
import { InvalidInputError } from '../errors.ts';

export const DOCKER_OPTS_FLAGS: readonly FlagSpec[] = [
  { name: 'subnet-file', type: 'string', default: '/run/flannel/subnet.env', help: 'subnet.env to read (mk-docker-opts -f)' },
  { name: 'docker-opts-file', type: 'string', default: '/run/docker_opts.env', help: 'Docker options file to write (-d); "-" for stdout' },
  { name: 'individual', type: 'boolean', default: false, help: 'write each option as its own DOCKER_OPT_* variable (-i)' },
  { name: 'combined', type: 'boolean', default: false, help: 'write the combined line (-c); with neither -i nor -c both are written' },
  { name: 'combined-key', type: 'string', default: 'DOCKER_OPTS', help: 'variable name of the combined line (-k)' },
  { name: 'no-ip-masq-opt', type: 'boolean', default: false, help: 'leave out --ip-masq, for older Docker (-m)' },
  { name: 'help', type: 'boolean', help: 'show this help' },
];

export const DOCKER_OPTS_SUMMARY = 'Turns subnet.env into Docker daemon options, as flannel\'s mk-docker-opts.sh does.';

export async function runDockerOpts(argv: readonly string[]): Promise<number> {
  const { values } = parseFlags(DOCKER_OPTS_FLAGS, argv, process.env);
  if (bool(values, 'help')) {
    process.stdout.write(renderHelp('docker-opts', DOCKER_OPTS_SUMMARY, DOCKER_OPTS_FLAGS));
    return 0;
  }
  const subnetFile = str(values, 'subnet-file')!;
  const env = readSubnetEnv(subnetFile);
  if (!env) throw new InvalidInputError('--subnet-file', subnetFile, 'does not exist; is the agent running?');
  const individual = bool(values, 'individual');
  const combined = bool(values, 'combined');
  const text = renderDockerOpts(env, {
    individual: individual || !combined,
    combined: combined || !individual,
    combinedKey: str(values, 'combined-key')!,
    omitIpMasq: bool(values, 'no-ip-masq-opt'),
  });
  const out = str(values, 'docker-opts-file')!;
  if (out === '-') {
    process.stdout.write(text);
    return 0;
  }
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(`${out}.tmp`, text, { mode: 0o644 });
  renameSync(`${out}.tmp`, out);
  return 0;
}
