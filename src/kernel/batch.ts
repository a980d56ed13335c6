// Applies a plan with one `ip -batch` / `bridge -batch` process per run of
// same-tool changes (measured: ~150 ms for 6,000 objects, against seconds for a
// process per object). `-force` keeps going past a failed line; iproute2 then
// prints the line's error followed by `Command failed -:<line>`, which is how each
// failure is traced back to its object. A failed line never drops the rest.
import { type Change, type ChangeAction } from './plan.ts';
import { type KernelTarget, type Tool, startTool } from './exec.ts';
import { type KernelObject, TARTAN_ROUTE_PROTO, describeObject } from './objects.ts';

export interface FailedChange {
  readonly change: Change;
  readonly error: string;
}

export interface ApplyResult {
  /** Changes the kernel refused; every other change was applied. */
  readonly failed: readonly FailedChange[];
}

export interface ApplyOptions extends KernelTarget {
  readonly signal?: AbortSignal | undefined;
}

/** A batch line (without the tool name) for one change. */
export function renderChange(change: Change): string {
  const o = change.object;
  const del = change.action === 'delete';
  switch (o.kind) {
    case 'fdb':
      return del
        ? `fdb del ${o.mac} dev ${o.dev} dst ${o.dst} self`
        : `fdb replace ${o.mac} dev ${o.dev} dst ${o.dst} self permanent`;
    case 'neigh':
      return del ? `neigh del ${o.ip} dev ${o.dev}` : `neigh replace ${o.ip} lladdr ${o.mac} dev ${o.dev} nud permanent`;
    case 'route': {
      const metric = o.metric === undefined ? '' : ` metric ${o.metric}`;
      if (del) return `route del ${o.dst} proto ${TARTAN_ROUTE_PROTO}${metric} table main`;
      // `add` for a destination tartan has no route to: a connected or foreign route
      // there makes it fail ("File exists") instead of being replaced. `replace` only
      // where tartan's own route is (the cache or the dump says so): atomic path switches.
      const verb = change.action === 'add' ? 'add' : 'replace';
      return `route ${verb} ${o.dst} via ${o.via} dev ${o.dev}${o.onlink ? ' onlink' : ''} proto ${TARTAN_ROUTE_PROTO}${metric}`;
    }
  }
}

export function toolFor(o: KernelObject): Tool {
  return o.kind === 'fdb' ? 'bridge' : 'ip';
}

/** Splits ordered changes into consecutive runs that one tool process can take. */
export function groupByTool(changes: readonly Change[]): Array<{ tool: Tool; changes: Change[] }> {
  const runs: Array<{ tool: Tool; changes: Change[] }> = [];
  for (const change of changes) {
    const tool = toolFor(change.object);
    const last = runs.at(-1);
    if (last?.tool === tool) last.changes.push(change);
    else runs.push({ tool, changes: [change] });
  }
  return runs;
}

export async function applyChanges(changes: readonly Change[], opts: ApplyOptions = {}): Promise<ApplyResult> {
  const failed: FailedChange[] = [];
  const runs = groupByTool(changes);
  // Every run's process starts now; each gets its input only after the one before has exited.
  const started = runs.map((run) => startTool(run.tool, ['-force', '-batch', '-'], { netns: opts.netns, signal: opts.signal }));
  const fed = runs.map(() => false);
  try {
    for (const [i, run] of runs.entries()) {
      opts.signal?.throwIfAborted();
      fed[i] = true;
      const res = await started[i]!.finish(run.changes.map(renderChange).join('\n') + '\n');
      if (res.code !== 0) failed.push(...attributeFailures(run.changes, res.stderr));
    }
  } finally {
    // Runs never fed (abort, or a tool that could not start): empty input, so they exit doing nothing.
    for (const [i, s] of started.entries()) if (!fed[i]) void s.finish('').catch(() => undefined);
  }
  return { failed };
}

/**
 * Maps `Command failed -:<n>` markers (and the error text printed before each) to
 * the changes on those lines. A delete of something already gone counts as done.
 * A failing run without markers (the tool died) fails every change in it.
 */
export function attributeFailures(changes: readonly Change[], stderr: string): FailedChange[] {
  const failed: FailedChange[] = [];
  let pending: string[] = [];
  let sawMarker = false;
  for (const line of stderr.split('\n')) {
    const marker = /^Command failed .*:(\d+)$/.exec(line.trim());
    if (!marker) {
      if (line.trim() !== '') pending.push(line.trim());
      continue;
    }
    sawMarker = true;
    const change = changes[Number(marker[1]) - 1];
    const error = pending.join('; ') || 'failed';
    pending = [];
    if (change !== undefined && !(change.action === 'delete' && isAlreadyGone(error))) failed.push({ change, error });
  }
  if (!sawMarker) {
    const error = pending.join('; ') || 'the batch process failed';
    return changes.map((change) => ({ change, error }));
  }
  return failed;
}

function isAlreadyGone(error: string): boolean {
  return /No such process|No such file or directory|Cannot find device|does not exist/i.test(error);
}

export function describeFailure(f: FailedChange): string {
  return `${actionVerb(f.change.action)} ${describeObject(f.change.object)}: ${f.error}`;
}

function actionVerb(action: ChangeAction): string {
  return action === 'delete' ? 'delete' : 'install';
}
