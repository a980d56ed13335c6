// `npm test`: typecheck, lint, then every test tier in one node:test run with one
// shared etcd. `--tier` picks one tier (README "Tests"):
//   unit         src/**/*.test.ts, providers/**/*.test.ts: pure, no etcd, no root, no server
//   integration  test/**/*.test.ts outside test/e2e: real etcd, emulators, the built CLI;
//                a few (test/agent/agent-process, test/audit) make one network namespace
//   e2e          test/e2e: whole-system runs, real processes in network namespaces
//   all          every tier (the default; what CI runs)
// Typecheck and lint run before `all` only: one tier is the quick loop (the unit
// tier takes seconds; tsc + eslint of the tree take minutes on a busy machine).
import { spawnSync } from 'node:child_process';
import { globSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startEtcd } from './support/etcd.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    tier: { type: 'string' },
    'skip-static': { type: 'boolean', default: false },
    concurrency: { type: 'string', default: '4' },
  },
});

const e2e = globSync('test/e2e/**/*.test.ts');
const unit = [...globSync('src/**/*.test.ts'), ...globSync('providers/**/*.test.ts')];
const integration = globSync('test/**/*.test.ts').filter((f) => !e2e.includes(f));
const tiers: Record<string, string[]> = { unit, integration, e2e, all: [...unit, ...integration, ...e2e] };

function usage(message: string): never {
  console.error(`test/run.ts: ${message}`);
  process.exit(2);
}
if (values.tier !== undefined && !Object.hasOwn(tiers, values.tier)) {
  usage(`--tier ${JSON.stringify(values.tier)} is not a tier (one of: ${Object.keys(tiers).join(', ')})`);
}
if (values.tier !== undefined && positionals.length > 0) usage('give --tier or test files, not both');
const files = positionals.length > 0 ? positionals : tiers[values.tier ?? 'all']!;

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): number {
  console.log(`$ ${cmd} ${args.join(' ')}`);
  const res = spawnSync(cmd, args, { stdio: 'inherit', env });
  return res.status ?? 1;
}

if (!values['skip-static'] && positionals.length === 0 && (values.tier ?? 'all') === 'all') {
  if (run('npx', ['tsc', '--noEmit', '-p', 'tsconfig.json']) !== 0) process.exit(1);
  if (run('npx', ['eslint', '.']) !== 0) process.exit(1);
}

const needsEtcd = files.some((f) => f.startsWith('test/'));
const etcd = needsEtcd ? await startEtcd() : undefined;
let status: number;
try {
  const env = { ...process.env, ...(etcd ? { TARTAN_TEST_ETCD: etcd.endpoint } : {}) };
  // no-io.ts: a colocated (unit) test that opens a socket or spawns a process fails, naming itself.
  const noIo = ['--import', './test/support/no-io.ts'];
  status = run(process.execPath, [...noIo, '--test', `--test-concurrency=${values.concurrency}`, '--test-timeout=240000', ...files], env);
} finally {
  await etcd?.destroy();
}
process.exit(status);
