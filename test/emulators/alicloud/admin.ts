// The emulator's control surface, used in-process by tests and over HTTP under
// /_admin/<method> (POST, one JSON object argument) by other processes.
import type { FaultSpec, Faults } from './faults.ts';
import type { EntryRecord, World, WorldSettings } from './model.ts';
import { type EntrySeed, type InstanceSeed, type TableSeed, type VpcSeed, seedEntry, seedInstance, seedTable, seedVpc } from './seed.ts';
import type { FlowControl, FlowSettings } from './throttle.ts';

/** One API call as the emulator saw it. */
export interface CallRecord {
  readonly seq: number;
  readonly action: string;
  readonly method: string;
  /** The headers the caller signed (from its Authorization header). */
  readonly signedHeaders: readonly string[];
  readonly params: Readonly<Record<string, string>>;
  /** 'OK', an API error code, or 'DROPPED'. */
  code: string;
  status: number;
  /** When the request arrived and when it was answered (emulator clock, ms). */
  readonly at: number;
  end: number;
}

export interface AdminDeps {
  readonly world: World;
  readonly faults: Faults;
  readonly flow: FlowControl;
  readonly calls: CallRecord[];
  readonly clientTokens: Map<string, unknown>;
  readonly now: () => number;
  readonly initialSettings: WorldSettings;
}

export class AlicloudAdmin {
  readonly #d: AdminDeps;

  constructor(deps: AdminDeps) {
    this.#d = deps;
  }

  /** Forgets everything: resources, faults, call log, limits back to the start options. */
  reset(): void {
    this.#d.world.clear();
    this.#d.world.settings = { ...this.#d.initialSettings };
    this.#d.faults.clear();
    this.#d.flow.reset();
    this.#d.calls.length = 0;
    this.#d.clientTokens.clear();
  }

  seedVpc(seed: VpcSeed): void {
    seedVpc(this.#d.world, seed);
  }
  seedTable(seed: TableSeed): void {
    seedTable(this.#d.world, seed, this.#d.now());
  }
  seedInstance(seed: InstanceSeed): void {
    seedInstance(this.#d.world, seed);
  }
  /** An entry someone else made (console, another cluster): returns its id. */
  seedEntry(seed: EntrySeed): { id: string } {
    return { id: seedEntry(this.#d.world, seed, this.#d.now()).id };
  }
  releaseInstance(args: { id: string }): void {
    this.#d.world.releaseInstance(args.id);
  }
  /** Ids the next creations get, before random ones. */
  queueIds(args: { ids: readonly string[] }): void {
    this.#d.world.idQueue.push(...args.ids);
  }

  configure(settings: Partial<WorldSettings>): void {
    Object.assign(this.#d.world.settings, settings);
  }
  setTableQuota(args: { tableId: string; quota: number }): void {
    const t = this.#d.world.tables.get(args.tableId);
    if (!t) throw new Error(`no route table ${args.tableId}`);
    t.quota = args.quota;
  }
  /** Both list APIs answer at most `n` items per page. */
  setPageSizeCap(args: { n: number }): void {
    Object.assign(this.#d.world.settings, { entryPageCap: args.n, tablePageCap: args.n });
  }
  setRateLimits(args: FlowSettings): void {
    this.#d.flow.configure(args);
  }

  injectFaults(spec: FaultSpec): void {
    this.#d.faults.inject(spec);
  }
  setLatency(args: { ms: number }): void {
    this.#d.faults.latencyMs = args.ms;
  }
  clearFaults(): void {
    this.#d.faults.clear();
  }

  calls(): CallRecord[] {
    return this.#d.calls.map((c) => ({ ...c }));
  }
  clearCalls(): void {
    this.#d.calls.length = 0;
  }
  /** A table's entries as they stand now (settled), for assertions. */
  entries(args: { tableId: string }): EntryRecord[] {
    this.#d.world.settle(this.#d.now());
    const t = this.#d.world.tables.get(args.tableId);
    if (!t) throw new Error(`no route table ${args.tableId}`);
    return [...t.entries.values()].map((e) => structuredClone(e));
  }
  settings(): WorldSettings {
    return { ...this.#d.world.settings };
  }
}

const HTTP_METHODS = new Set([
  'reset', 'seedVpc', 'seedTable', 'seedInstance', 'seedEntry', 'releaseInstance', 'queueIds', 'configure',
  'setTableQuota', 'setPageSizeCap', 'setRateLimits', 'injectFaults', 'setLatency', 'clearFaults', 'calls',
  'clearCalls', 'entries', 'settings',
]);

/** Runs `POST /_admin/<method>` with a JSON object body; returns [status, JSON answer]. */
export function runAdmin(admin: AlicloudAdmin, method: string, body: string): [number, unknown] {
  if (!HTTP_METHODS.has(method)) return [404, { error: `no admin method ${method}` }];
  let arg: unknown = {};
  try {
    arg = body.trim() === '' ? {} : JSON.parse(body);
  } catch {
    return [400, { error: 'the body must be a JSON object' }];
  }
  try {
    const fn = (admin as unknown as Record<string, (a: unknown) => unknown>)[method]!;
    return [200, { result: fn.call(admin, arg) ?? null }];
  } catch (err) {
    return [400, { error: err instanceof Error ? err.message : String(err) }];
  }
}
