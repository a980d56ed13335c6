// Every .tf file under terraform/, parsed by HashiCorp's HCL parser (compiled to
// WebAssembly in @cdktn/hcl2json) into Terraform's JSON configuration form.
import { readFileSync, globSync } from 'node:fs';
import { parse } from '@cdktn/hcl2json';

export type TfJson = Record<string, unknown>;

export function tfFiles(): string[] {
  return globSync('terraform/**/*.tf').sort();
}

export async function parseTf(file: string): Promise<TfJson> {
  return await parse(file, readFileSync(file, 'utf8')) as TfJson;
}

/** `{ name: [body] }` blocks (variable, output, module, locals items) as [name, body] pairs. */
export function named(json: TfJson, kind: string): [string, Record<string, unknown>][] {
  const blocks = (json[kind] ?? {}) as Record<string, Record<string, unknown>[]>;
  return Object.entries(blocks).flatMap(([name, bodies]) => bodies.map((b) => [name, b] as [string, Record<string, unknown>]));
}

/** `{ type: { name: [body] } }` blocks (resource, data) as [type.name, body] pairs. */
export function typed(json: TfJson, kind: string): [string, Record<string, unknown>][] {
  const blocks = (json[kind] ?? {}) as Record<string, Record<string, Record<string, unknown>[]>>;
  return Object.entries(blocks).flatMap(([type, byName]) => Object.entries(byName)
    .flatMap(([name, bodies]) => bodies.map((b) => [`${type}.${name}`, b] as [string, Record<string, unknown>])));
}

/** Every `locals` entry as [name, value] pairs. */
export function locals(json: TfJson): [string, unknown][] {
  return ((json.locals ?? []) as Record<string, unknown>[]).flatMap((block) => Object.entries(block));
}
