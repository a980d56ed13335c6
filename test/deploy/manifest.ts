// deploy/kubernetes/tartan.yaml as kubectl reads it: its objects parsed by kubectl
// itself (`create --dry-run=client -o json`), so the tests see what `apply` sends.
import assert from 'node:assert/strict';
import type { Harness } from '../emulators/kube-apiserver/fixture.ts';

export const MANIFEST = 'deploy/kubernetes/tartan.yaml';

export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly [k: string]: unknown };
  readonly [field: string]: unknown;
}

interface HttpProbe { readonly httpGet?: { readonly path: string; readonly port: number | string } }

export interface Container {
  readonly name: string;
  readonly args?: readonly string[];
  readonly env?: readonly unknown[];
  readonly envFrom?: readonly unknown[];
  readonly livenessProbe?: HttpProbe;
  readonly readinessProbe?: HttpProbe;
  readonly securityContext?: unknown;
  readonly volumeMounts?: readonly { readonly name: string; readonly mountPath: string }[];
}

/** The manifest's objects in file order (needs the emulator: kubectl maps kinds through discovery). */
export async function manifestObjects(h: Pick<Harness, 'kubectl'>, file = MANIFEST): Promise<KubeObject[]> {
  const out = await h.kubectl(['create', '--dry-run=client', '--validate=false', '-o', 'json', '-f', file]);
  assert.equal(out.code, 0, `kubectl create --dry-run=client -f ${file}: ${out.stderr}`);
  // One pretty-printed object after another: only a top-level object starts with a line "{".
  return out.stdout.split(/^(?=\{$)/m).filter((s) => s.trim()).map((s) => JSON.parse(s) as KubeObject);
}

export function findObject(objects: readonly KubeObject[], kind: string, name: string): KubeObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  assert.ok(found, `${MANIFEST} has a ${kind} ${name}`);
  return found;
}

/** A workload's pod template containers (init containers first). */
export function podContainers(workload: KubeObject): { init: Container[]; main: Container[] } {
  const spec = (workload.spec as { template: { spec: { initContainers?: Container[]; containers: Container[] } } }).template.spec;
  return { init: spec.initContainers ?? [], main: spec.containers };
}
