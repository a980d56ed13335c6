// A tiny container runtime's CNI side, as libcni runs a network config list (AddNetworkList,
// DelNetworkList): each plugin of the conflist is run from the bin dir inside the lab host's
// namespace, with the CNI_* environment and its config on stdin. The config is the plugin's
// entry plus the list's name and cniVersion, `runtimeConfig` for each capability the plugin
// asks for that the runtime has (portMappings), and `prevResult`: on ADD the previous
// plugin's result, on DEL the cached ADD result (config version 0.4.0 and later, as libcni).
// ADD runs the plugins in order and stops at the first failure; DEL runs them in reverse and
// runs every one. Each list is timed (wall time, `ip netns exec` included) and, when asked,
// its CPU time (the plugins' and their delegates' user + sys, from bash's `times`), which a
// busy machine stretches far less than the wall time.
import type { Conflist } from '../../src/cni/conflist.ts';
import { compareVersions } from '../../src/cni/version.ts';
import { nsExec } from './netns.ts';

type Json = Record<string, unknown>;

export interface CniPod {
  /** CNI_CONTAINERID. */
  readonly id: string;
  /** The pod's network namespace (a path, /var/run/netns/<name>). */
  readonly netns: string;
  readonly ifname?: string | undefined;
  /** What the runtime hands plugins that declare the capability, e.g. { portMappings: [...] }. */
  readonly capabilityArgs?: Json | undefined;
}

export interface CniOutcome {
  readonly ok: boolean;
  /** The last plugin's result (ADD). */
  readonly result?: Json | undefined;
  /** The failing plugin's CNI error (`{code, msg}`), or its output when it printed no JSON. */
  readonly error?: Json | undefined;
  readonly failedPlugin?: string | undefined;
  /** Wall time of the whole list, ms. */
  readonly ms: number;
  /** CPU time (user + sys) of every plugin run and the delegates they ran, ms; with `measureCpu`. */
  readonly cpuMs?: number | undefined;
}

export interface CniRuntime {
  add(pod: CniPod): Promise<CniOutcome>;
  del(pod: CniPod): Promise<CniOutcome>;
}

export interface CniRuntimeOptions {
  /** The host's namespace: plugins run there, as a runtime runs them on the host. */
  readonly hostNs: string;
  /** CNI_PATH: where the plugins are. */
  readonly binDir: string;
  readonly conflist: Conflist;
  readonly measureCpu?: boolean | undefined;
}

/** Runs the command under bash and prints bash's `times` (its children's user and sys) last on stderr. */
const TIMED = '"$@"; rc=$?; times >&2; exit $rc';

/** The children's user + sys from `times` output ("0m0.000s 0m0.000s\n0m0.031s 0m0.012s"), ms. */
export function childrenCpuMs(stderr: string): number {
  const last = stderr.trim().split('\n').at(-1) ?? '';
  const m = /^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/.exec(last);
  if (!m) throw new Error(`no bash times line at the end of ${JSON.stringify(stderr.slice(-200))}`);
  return (Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4])) * 1000;
}

export function cniRuntime(o: CniRuntimeOptions): CniRuntime {
  const cached = new Map<string, Json>();
  const version = o.conflist.cniVersion;
  const configFor = (plugin: Json, pod: CniPod, prevResult: Json | undefined): Json => {
    const c: Json = { ...plugin, name: o.conflist.name };
    if (version !== '') c['cniVersion'] = version;
    const caps = (plugin['capabilities'] ?? {}) as Json;
    const rc = Object.fromEntries(Object.entries(pod.capabilityArgs ?? {}).filter(([k]) => caps[k] === true));
    if (Object.keys(rc).length > 0) c['runtimeConfig'] = { ...(plugin['runtimeConfig'] as Json | undefined), ...rc };
    if (prevResult) c['prevResult'] = prevResult;
    return c;
  };
  const run = async (plugin: Json, command: 'ADD' | 'DEL', pod: CniPod, prevResult: Json | undefined): Promise<{ code: number; json: Json | undefined; text: string; cpuMs: number }> => {
    const env = [`CNI_COMMAND=${command}`, `CNI_CONTAINERID=${pod.id}`, `CNI_NETNS=${pod.netns}`, `CNI_IFNAME=${pod.ifname ?? 'eth0'}`, `CNI_PATH=${o.binDir}`];
    const argv = ['env', ...env, `${o.binDir}/${String(plugin['type'])}`];
    const [cmd, args] = o.measureCpu ? ['bash', ['-c', TIMED, 'cni', ...argv]] : [argv[0]!, argv.slice(1)];
    const res = await nsExec(o.hostNs, cmd, args, { input: JSON.stringify(configFor(plugin, pod, prevResult)), timeoutMs: 120_000 });
    let json: Json | undefined;
    try {
      json = res.stdout.trim() === '' ? undefined : JSON.parse(res.stdout) as Json;
    } catch { /* reported as text */ }
    return { code: res.code, json, text: `${res.stdout}${res.stderr}`.trim(), cpuMs: o.measureCpu ? childrenCpuMs(res.stderr) : 0 };
  };
  return {
    add: async (pod) => {
      const started = performance.now();
      let prev: Json | undefined;
      let cpuMs = 0;
      for (const plugin of o.conflist.plugins) {
        const r = await run(plugin, 'ADD', pod, prev);
        cpuMs += r.cpuMs;
        if (r.code !== 0) return { ok: false, error: r.json ?? { msg: r.text }, failedPlugin: String(plugin['type']), ms: performance.now() - started };
        prev = r.json;
      }
      if (prev) cached.set(pod.id, prev);
      return { ok: true, result: prev, ms: performance.now() - started, cpuMs: o.measureCpu ? cpuMs : undefined };
    },
    del: async (pod) => {
      const started = performance.now();
      const prev = version !== '' && compareVersions(version, '0.4.0') >= 0 ? cached.get(pod.id) : undefined;
      let failure: { error: Json; failedPlugin: string } | undefined;
      let cpuMs = 0;
      for (const plugin of [...o.conflist.plugins].reverse()) {
        const r = await run(plugin, 'DEL', pod, prev);
        cpuMs += r.cpuMs;
        if (r.code !== 0 && !failure) failure = { error: r.json ?? { msg: r.text }, failedPlugin: String(plugin['type']) };
      }
      if (!failure) cached.delete(pod.id);
      return { ok: !failure, ...failure, ms: performance.now() - started, cpuMs: o.measureCpu ? cpuMs : undefined };
    },
  };
}

/** The pod's first IPv4 address in an ADD result (`ips[].address` without the prefix length). */
export function podIp(result: Json | undefined): string | undefined {
  const ips = result?.['ips'];
  if (!Array.isArray(ips)) return undefined;
  const v4 = (ips as Json[]).map((i) => i['address']).find((a): a is string => typeof a === 'string' && /^\d+\.\d+\.\d+\.\d+\//.test(a));
  return v4?.split('/')[0];
}
