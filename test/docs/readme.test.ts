// README.md must stay true: its flag reference is the commands' own flag tables,
// and the quick start names commands that exist.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readmeSection, renderReference } from '../../scripts/flags-reference.ts';

const readme = readFileSync('README.md', 'utf8');

test('the README flag reference matches the code (run `npm run docs` to refresh)', () => {
  assert.equal(readmeSection(readme), renderReference());
});

test('README begins with "How it works" and ends with "Things you should NOT do"', () => {
  const headings = [...readme.matchAll(/^## (.+)$/gm)].map((m) => m[1]);
  assert.equal(headings[0], 'How it works');
  assert.equal(headings.at(-1), 'Things you should NOT do');
});

test('the quick start commands exist', () => {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> };
  for (const script of ['demo', 'test', 'bench']) {
    assert.ok(pkg.scripts[script], `npm run ${script} exists`);
    assert.ok(readme.includes(`npm ${script === 'test' ? 'test' : `run ${script}`}`), `README mentions npm ${script}`);
  }
  assert.ok(readme.includes('scripts/install-deps.sh'));
  assert.match(readFileSync('.ci/run', 'utf8'), /scripts\/install-deps\.sh[\s\S]*npm test/);
});
