// The Terraform modules and examples, checked as far as this machine allows (no
// terraform binary, no cloud account): every .tf file parses with HashiCorp's HCL
// parser; every reference names something its module declares (a variable, local,
// module call and that module's output, resource or data source); every variable
// and output is described; every module call passes exactly known variables and
// every required one.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { getReferencesInExpression, parse } from '@cdktn/hcl2json';
import { type TfJson, locals, named, parseTf, tfFiles, typed } from './hcl.ts';

/** What one module directory declares, merged over its .tf files. */
interface Module {
  readonly dir: string;
  readonly json: TfJson[];
  readonly variables: Map<string, Record<string, unknown>>;
  readonly outputs: Set<string>;
  readonly locals: Set<string>;
  readonly modules: Map<string, Record<string, unknown>>;
  readonly resources: Set<string>;
  readonly data: Set<string>;
}

async function loadModule(dir: string): Promise<Module> {
  const json = await Promise.all(tfFiles().filter((f) => dirname(f) === dir).map(parseTf));
  const all = <T>(f: (j: TfJson) => T[]): T[] => json.flatMap(f);
  return {
    dir, json,
    variables: new Map(all((j) => named(j, 'variable'))),
    outputs: new Set(all((j) => named(j, 'output')).map(([n]) => n)),
    locals: new Set(all(locals).map(([n]) => n)),
    modules: new Map(all((j) => named(j, 'module'))),
    resources: new Set(all((j) => typed(j, 'resource')).map(([n]) => n)),
    data: new Set(all((j) => typed(j, 'data')).map(([n]) => n)),
  };
}

/** Every string in a parsed body that holds an interpolation. */
function expressions(value: unknown): string[] {
  if (typeof value === 'string') return value.includes('${') ? [value] : [];
  if (Array.isArray(value)) return value.flatMap(expressions);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(expressions);
  return [];
}

const BUILTIN = new Set(['each', 'count', 'self', 'path', 'terraform']);

/** Why `ref` does not resolve in `m`, or undefined when it does. */
async function unresolved(m: Module, ref: string): Promise<string | undefined> {
  const [root = '', a = '', b = ''] = ref.split('.');
  if (BUILTIN.has(root)) return undefined;
  if (root === 'var') return m.variables.has(a) ? undefined : `no variable "${a}"`;
  if (root === 'local') return m.locals.has(a) ? undefined : `no local "${a}"`;
  if (root === 'data') return m.data.has(`${a}.${b}`) ? undefined : `no data "${a}" "${b}"`;
  if (root === 'module') {
    const call = m.modules.get(a);
    if (!call) return `no module "${a}"`;
    const child = await loadModule(join(m.dir, call.source as string));
    return b === '' || child.outputs.has(b) ? undefined : `module "${a}" (${child.dir}) has no output "${b}"`;
  }
  // Resource types are provider_type; a name without "_" is a for-expression's own symbol.
  if (root.includes('_')) return m.resources.has(`${root}.${a}`) ? undefined : `no resource "${root}" "${a}"`;
  return undefined;
}

const files = tfFiles();
const dirs = [...new Set(files.map(dirname))];

describe('terraform/ (HCL, parsed)', () => {
  test('there are modules and examples for aws, gce, alicloud, and a hybrid example', () => {
    for (const d of ['modules/aws', 'modules/gce', 'modules/alicloud', 'examples/aws', 'examples/gce', 'examples/alicloud', 'examples/hybrid']) {
      assert.ok(dirs.includes(`terraform/${d}`), `terraform/${d} has a .tf file`);
    }
  });

  test('a syntax error is reported with its file and line', async () => {
    await assert.rejects(parse('broken.tf', 'resource "a" "b" {\n'), /broken\.tf:1/);
  });

  for (const dir of dirs) {
    describe(dir, () => {
      test('every .tf file parses', async () => {
        for (const f of files.filter((x) => dirname(x) === dir)) await assert.doesNotReject(parseTf(f), f);
      });

      test('every reference resolves to a declaration', async () => {
        const m = await loadModule(dir);
        const problems: string[] = [];
        for (const expr of m.json.flatMap(expressions)) {
          for (const { value } of await getReferencesInExpression(`${dir}/main.tf`, expr)) {
            const why = await unresolved(m, value);
            if (why) problems.push(`${value}: ${why}`);
          }
        }
        assert.deepEqual(problems, []);
      });

      test('every variable and output has a description', async () => {
        const m = await loadModule(dir);
        const bare = [
          ...[...m.variables].filter(([, v]) => !v.description).map(([n]) => `variable "${n}"`),
          ...m.json.flatMap((j) => named(j, 'output')).filter(([, o]) => !o.description).map(([n]) => `output "${n}"`),
        ];
        assert.deepEqual(bare, []);
      });

      test('every module call passes known variables, and every required one', async () => {
        const m = await loadModule(dir);
        for (const [name, call] of m.modules) {
          const child = await loadModule(join(dir, call.source as string));
          const passed = Object.keys(call).filter((k) => !['source', 'version', 'providers', 'count', 'for_each', 'depends_on'].includes(k));
          assert.deepEqual(passed.filter((k) => !child.variables.has(k)), [], `module "${name}": arguments ${child.dir} does not declare`);
          const required = [...child.variables].filter(([, v]) => !('default' in v)).map(([n]) => n);
          assert.deepEqual(required.filter((k) => !passed.includes(k)), [], `module "${name}": required variables not passed`);
        }
      });
    });
  }
});
