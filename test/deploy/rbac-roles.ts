// tartan.yaml's roles for tests that take one rule out: kubectl against a kubeconfig,
// a role written without rule i and applied, then the whole role applied again.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { KubeObject } from './manifest.ts';

export type Kubectl = (args: readonly string[]) => Promise<{ code: number; stdout: string; stderr: string }>;

/** kubectl with this kubeconfig and a discovery cache in `cacheDir`. */
export function kubectlWith(kubeconfig: string, cacheDir: string, timeoutMs = 20_000): Kubectl {
  return async (args) => {
    try {
      const { stdout, stderr } = await promisify(execFile)('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', cacheDir, ...args], { timeout: timeoutMs });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    }
  };
}

export type Rule = { apiGroups: string[]; resources: string[]; verbs: string[] };
export const rulesOf = (role: KubeObject): Rule[] => role.rules as Rule[];
/** "<Kind>/<name>: <resources>", as rbac-requests.ts names the rule that grants a request. */
export const ruleKey = (role: KubeObject, rule: Rule): string => `${role.kind}/${role.metadata.name}: ${rule.resources.join(',')}`;

/** Applies `role` with its rule `index` taken out (index undefined: the whole role) through a file in `dir`. */
export async function applyRole(kubectl: Kubectl, dir: string, role: KubeObject, index?: number): Promise<void> {
  const file = join(dir, `${role.kind}-${role.metadata.name}.json`);
  writeFileSync(file, JSON.stringify(index === undefined ? role : { ...role, rules: rulesOf(role).filter((_, j) => j !== index) }));
  const out = await kubectl(['apply', '--validate=false', '-f', file]);
  if (out.code !== 0) throw new Error(`kubectl apply ${role.kind}/${role.metadata.name}${index === undefined ? '' : ` without rule ${index}`}: ${out.stderr}`);
}
