// The plugin's commands, as flannel's plugin runs them, plus what flannel leaves out: a
// failed ADD releases its address, CHECK checks, STATUS says whether ADD can work. All I/O
// (files, the delegate plugin) comes in through PluginDeps, so every path is table-tested.
import { buildDelegate, delegateType } from './delegate.ts';
import type { CniArgs } from './env.ts';
import { CniCode, CniError, asCniError, errorJson } from './errors.ts';
import { type JsonObject, type NetConf, isObject, parseNetConf } from './netconf.ts';
import { type FlannelEnv, missingSubnetFile, parseSubnetFile } from './subnet-file.ts';
import { CURRENT_VERSION, checkSupported, requireAtLeast, versionJson } from './version.ts';

export type DelegateCommand = 'ADD' | 'DEL' | 'CHECK';

export interface PluginDeps {
  /** Runs the delegate plugin `type` from CNI_PATH with `config` on stdin; resolves to its stdout, rejects with a CniError. */
  runDelegate(o: { type: string; command: DelegateCommand; config: string }): Promise<string>;
  /** A file's text; undefined when it does not exist. */
  readFile(path: string): string | undefined;
  /** Writes `dataDir/<containerID>` durably (dir 0700, file 0600). */
  saveScratch(dataDir: string, containerId: string, text: string): void;
  loadScratch(dataDir: string, containerId: string): string | undefined;
  removeScratch(dataDir: string, containerId: string): void;
  warn(message: string): void;
}

export interface PluginOutcome {
  readonly exitCode: 0 | 1;
  readonly stdout: string;
}

/** Runs one CNI command; errors become the spec's error JSON and exit code 1. */
export async function runPlugin(args: CniArgs, stdin: string, deps: PluginDeps): Promise<PluginOutcome> {
  if (args.command === 'VERSION') return { exitCode: 0, stdout: versionJson() };
  let version = CURRENT_VERSION;
  try {
    const conf = parseNetConf(stdin);
    version = conf.cniVersion || version;
    checkSupported(conf.cniVersion);
    return { exitCode: 0, stdout: await dispatch(args, conf, deps) };
  } catch (err) {
    return { exitCode: 1, stdout: errorJson(asCniError(err), version) };
  }
}

function dispatch(args: CniArgs, conf: NetConf, deps: PluginDeps): Promise<string> {
  switch (args.command) {
    case 'ADD': return add(args, conf, deps);
    case 'DEL': return del(args, conf, deps);
    case 'CHECK': return check(args, conf, deps);
    case 'STATUS': return Promise.resolve(status(conf, deps));
    case 'GC':
      requireAtLeast(conf.cniVersion, '1.1.0', 'GC');
      return Promise.resolve('');
    case 'VERSION': return Promise.resolve(versionJson());
  }
}

function readEnv(conf: NetConf, deps: PluginDeps, missingCode?: number): FlannelEnv {
  const text = deps.readFile(conf.subnetFile);
  if (text === undefined) throw missingSubnetFile(conf.subnetFile, missingCode);
  return parseSubnetFile(conf.subnetFile, text);
}

async function add(args: CniArgs, conf: NetConf, deps: PluginDeps): Promise<string> {
  const delegate = buildDelegate(conf, readEnv(conf, deps));
  const type = delegateType(delegate);
  const config = JSON.stringify(delegate);
  deps.saveScratch(conf.dataDir, args.containerId, config);
  try {
    const result: unknown = JSON.parse(await deps.runDelegate({ type, command: 'ADD', config }));
    if (!isObject(result)) throw new CniError(CniCode.decodeFailure, 'its result is not a JSON object');
    return JSON.stringify(result);
  } catch (err) {
    const failure = prefixed(err, `delegate ${type} ADD failed: `);
    // Whatever the delegate allocated before it failed (host-local's address, a veth) goes now.
    try {
      await deps.runDelegate({ type, command: 'DEL', config });
      deps.removeScratch(conf.dataDir, args.containerId);
    } catch (delErr) {
      throw prefixed(failure, '', `; its DEL failed too (${asCniError(delErr).message}): the runtime's DEL retries through the saved config`);
    }
    throw failure;
  }
}

async function del(args: CniArgs, conf: NetConf, deps: PluginDeps): Promise<string> {
  const config = deps.loadScratch(conf.dataDir, args.containerId);
  if (config === undefined) return ''; // never added, or already deleted: success (CNI spec)
  let saved: unknown;
  try {
    saved = JSON.parse(config);
  } catch (err) {
    deps.warn(`${conf.dataDir}/${args.containerId} is not JSON (${(err as Error).message}): nothing to delete through it`);
    return '';
  }
  const type = delegateType(isObject(saved) ? saved : {});
  try {
    await deps.runDelegate({ type, command: 'DEL', config });
  } catch (err) {
    throw prefixed(err, `delegate ${type} DEL failed: `);
  }
  deps.removeScratch(conf.dataDir, args.containerId);
  return '';
}

async function check(args: CniArgs, conf: NetConf, deps: PluginDeps): Promise<string> {
  requireAtLeast(conf.cniVersion, '0.4.0', 'CHECK');
  const text = deps.loadScratch(conf.dataDir, args.containerId);
  if (text === undefined) {
    throw new CniError(CniCode.unknownContainer, `${conf.dataDir}/${args.containerId} does not exist: container ${args.containerId} was not added (or was deleted)`);
  }
  const saved: unknown = JSON.parse(text);
  if (!isObject(saved)) throw new CniError(CniCode.decodeFailure, `${conf.dataDir}/${args.containerId} is not a JSON object`);
  const now = buildDelegate(conf, readEnv(conf, deps));
  const savedRanges = JSON.stringify(isObject(saved['ipam']) ? saved['ipam']['ranges'] : undefined);
  const nowRanges = JSON.stringify((now['ipam'] as JsonObject)['ranges']);
  if (savedRanges !== nowRanges) {
    throw new CniError(CniCode.internal, `container ${args.containerId} has an address from ${savedRanges}, but ${conf.subnetFile} now gives ${nowRanges}: the host's lease changed; recreate the container`);
  }
  const type = delegateType(saved);
  const config = JSON.stringify(conf.prevResult ? { ...saved, prevResult: conf.prevResult } : saved);
  try {
    await deps.runDelegate({ type, command: 'CHECK', config });
  } catch (err) {
    throw prefixed(err, `delegate ${type} CHECK failed: `);
  }
  return '';
}

function status(conf: NetConf, deps: PluginDeps): string {
  requireAtLeast(conf.cniVersion, '1.1.0', 'STATUS');
  try {
    readEnv(conf, deps, CniCode.notAvailable);
  } catch (err) {
    const e = asCniError(err);
    throw e.code === CniCode.notAvailable ? e : new CniError(CniCode.notAvailable, e.message, { cause: e });
  }
  return '';
}

function prefixed(err: unknown, before: string, after = ''): CniError {
  const e = asCniError(err);
  return new CniError(e.code, `${before}${e.message}${after}`, { cause: e, details: e.details });
}
