// Acting on a route plan: the only controller code that calls the provider's
// mutating methods. Bounded concurrency; the provider paces and retries. Every
// action's outcome is returned, typed, for the route status.
import { ConflictError, QuotaExceededError, errorMessage } from '../errors.ts';
import type { Logger } from '../observe/log.ts';
import { type RouteTableWriter, canReplace } from '../../providers/route-table.ts';
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
  const queue = [...opts.plan.actions];
  const results: ActionResult[] = [];
  const worker = async (): Promise<void> => {
    for (let action = queue.shift(); action; action = queue.shift()) {
      opts.signal.throwIfAborted();
      results.push(await applyOne(opts.provider, action, opts.signal, opts.log));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency, queue.length)) }, worker));
  return results;
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
    const error = err instanceof Error ? err : new Error(String(err));
    const outcome = err instanceof ConflictError ? 'conflict' : err instanceof QuotaExceededError ? 'overflow' : 'error';
    log.warn({ op: action.op, table: action.table, destination: action.op === 'delete' ? action.route.destination : action.destination, err: errorMessage(err) }, 'route action failed');
    return { action, error, outcome };
  }
}
