// Acting on a route plan: the only controller code that calls the provider's
// mutating methods. Bounded concurrency; the provider paces and retries. Every
// action's outcome is returned, typed, for the route status.
//
// Where the cloud writes in batches (Alibaba CreateRouteEntries / DeleteRouteEntries)
// creates and deletes go per table in one batch call: its writes are serial per VPC
// and each waits until the entry settles, so one route at a time would take
// routes × settle time (about 2 s each) instead of one settle per 50 routes.
import { ConflictError, QuotaExceededError, errorMessage } from '../errors.ts';
import type { Logger } from '../observe/log.ts';
import { type BatchRouteWriter, type RouteTableWriter, canBatch, canReplace } from '../../providers/route-table.ts';
import type { RouteAction, RoutePlan } from './planner.ts';

export interface ActionResult {
  readonly action: RouteAction;
  readonly error?: Error | undefined;
  /** How the failure shows in the route status. */
  readonly outcome: 'done' | 'conflict' | 'overflow' | 'error';
}

export interface ApplyOptions {
  readonly provider: RouteTableWriter;
  readonly plan: RoutePlan;
  readonly concurrency: number;
  readonly signal: AbortSignal;
  readonly log: Logger;
}

export async function applyPlan(opts: ApplyOptions): Promise<ActionResult[]> {
  const provider = opts.provider;
  const batching = canBatch(provider);
  const batchable = batching ? opts.plan.actions.filter((a) => a.op !== 'replace') : [];
  const queue = batching ? opts.plan.actions.filter((a) => a.op === 'replace') : [...opts.plan.actions];
  const results: ActionResult[] = [];
  const worker = async (): Promise<void> => {
    for (let action = queue.shift(); action; action = queue.shift()) {
      opts.signal.throwIfAborted();
      results.push(await applyOne(provider, action, opts.signal, opts.log));
    }
  };
  const batches = batching && batchable.length > 0 ? applyBatches(provider, batchable, opts.signal, opts.log) : Promise.resolve([]);
  const [batched] = await Promise.all([batches, ...Array.from({ length: Math.max(1, Math.min(opts.concurrency, queue.length)) }, worker)]);
  return [...batched, ...results];
}

async function applyOne(provider: RouteTableWriter, action: RouteAction, signal: AbortSignal, log: Logger): Promise<ActionResult> {
  try {
    switch (action.op) {
      case 'create':
        await provider.createRoute(action.table, { destination: action.destination, nextHop: action.nextHop }, signal);
        break;
      case 'replace':
        if (canReplace(provider)) await provider.replaceRoute(action.table, { destination: action.destination, nextHop: action.nextHop }, signal);
        else {
          await provider.deleteRoute(action.table, action.old, signal);
          await provider.createRoute(action.table, { destination: action.destination, nextHop: action.nextHop }, signal);
        }
        break;
      case 'delete':
        await provider.deleteRoute(action.table, action.route, signal);
        break;
    }
    return { action, outcome: 'done' };
  } catch (err) {
    if (signal.aborted) throw err;
    return failure(action, err, log);
  }
}

/** Creates and deletes grouped per table and operation, one batch call per group (the provider splits it at maxBatch). */
async function applyBatches(provider: RouteTableWriter & BatchRouteWriter, actions: readonly RouteAction[], signal: AbortSignal, log: Logger): Promise<ActionResult[]> {
  const groups = new Map<string, RouteAction[]>();
  for (const a of actions) {
    const key = `${a.op} ${a.table}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(a);
  }
  const results: ActionResult[] = [];
  for (const group of groups.values()) {
    const { op, table } = group[0]!;
    try {
      const answer = op === 'delete'
        ? await provider.deleteRoutes(table, group.flatMap((a) => (a.op === 'delete' ? [a.route] : [])), signal)
        : await provider.createRoutes(table, group.flatMap((a) => (a.op === 'create' ? [{ destination: a.destination, nextHop: a.nextHop }] : [])), signal);
      const done = new Set(answer.done);
      const failed = new Map(answer.failed.map((f) => [f.destination, f.error]));
      for (const a of group) {
        const error = failed.get(destinationOf(a)) ?? (done.has(destinationOf(a)) ? undefined : new Error('the batch answer does not mention this route'));
        results.push(error ? failure(a, error, log) : { action: a, outcome: 'done' });
      }
    } catch (err) {
      if (signal.aborted) throw err;
      for (const a of group) results.push(failure(a, err, log));
    }
  }
  return results;
}

function failure(action: RouteAction, err: unknown, log: Logger): ActionResult {
  const error = err instanceof Error ? err : new Error(String(err));
  const outcome = err instanceof ConflictError ? 'conflict' : err instanceof QuotaExceededError ? 'overflow' : 'error';
  log.warn({ op: action.op, table: action.table, destination: destinationOf(action), err: errorMessage(err) }, 'route action failed');
  return { action, error, outcome };
}

function destinationOf(action: RouteAction): string {
  return action.op === 'delete' ? action.route.destination : action.destination;
}
