// `npm test`: typecheck, lint, then every test tier in one node:test run with one
// shared etcd. `--tier unit` runs only the colocated pure tests (no etcd, no root).
import { spawnSync } from 'node:child_process';
import { globSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startEtcd } from './support/etcd.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    tier: { type: 'string', default: 'all' },
    'skip-static': { type: 'boolean', default: false },
    concurrency: { type: 'string', default: '4' },
  },
});

const unit = [...globSync('src/**/*.test.ts'), ...globSync('providers/**/*.test.ts')];
const integration = globSync('test/**/*.test.ts');
const files = positionals.length > 0 ? positionals : values.tier === 'unit' ? unit : [...unit, ...integration];

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): number {
  console.log(`$ ${cmd} ${args.join(' ')}`);
  const res = spawnSync(cmd, args, { stdio: 'inherit', env });
  return res.status ?? 1;
}

if (!values['skip-static'] && positionals.length === 0) {
  if (run('npx', ['tsc', '--noEmit', '-p', 'tsconfig.json']) !== 0) process.exit(1);
  if (run('npx', ['eslint', '.']) !== 0) process.exit(1);
}

const needsEtcd = files.some((f) => f.startsWith('test/'));
const etcd = needsEtcd ? await startEtcd() : undefined;
let status: number;
try {
  const env = { ...process.env, ...(etcd ? { TARTAN_TEST_ETCD: etcd.endpoint } : {}) };
  status = run(process.execPath, ['--test', `--test-concurrency=${values.concurrency}`, '--test-timeout=240000', ...files], env);
} finally {
  await etcd?.destroy();
}
process.exit(status);
