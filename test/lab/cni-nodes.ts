// The CNI side of lab hosts, as a node really has it: the plugin's single executable
// (npm run build:cni's code) put into a CNI bin dir by `tartan install-cni` (as flannel and
// tartan, beside Debian's bridge, host-local, loopback and portmap), kube-flannel's
// conflist (flannel, then portmap) installed per host, and pods made by running that
// conflist as a runtime runs it for a pod sandbox (cni-runtime.ts) — whatever writes
// subnet.env (an etcd-mode or a Kubernetes-mode agent). Used by the CNI pods e2e tests
// and the Kubernetes demo.
//
// Every lab host shares one file system, so each host gets its own directory under `dir`
// (net.d, the flannel plugin's dataDir, host-local's store); the bin dir is one (each
// install-cni run replaces what the one before installed, as on a node after an upgrade).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildCniExecutable } from '../../scripts/build-cni.ts';
import { parseConflist } from '../../src/cni/conflist.ts';
import { MAIN } from './agents.ts';
import { type CniOutcome, type CniPod, type CniRuntime, cniRuntime, podIp } from './cni-runtime.ts';
import type { LabHost } from './lab.ts';
import { createNamespace, deleteNamespace } from './netns.ts';

export const DELEGATES = ['bridge', 'host-local', 'loopback', 'portmap'] as const;
const PLUGIN_DIR = '/usr/lib/cni';

/** Why the CNI labs cannot run here, or false. */
export function cniLabSkip(): string | false {
  if (process.getuid?.() !== 0) return 'needs root for network namespaces';
  const missing = DELEGATES.filter((p) => !existsSync(join(PLUGIN_DIR, p)));
  return missing.length > 0 ? `needs containernetworking-plugins (${missing.join(', ')} not in ${PLUGIN_DIR}; scripts/install-deps.sh)` : false;
}

/** A pod made through the conflist; a LabPod (pingMatrix) once ADD gave it an address. */
export interface CniLabPod {
  readonly node: LabHost;
  readonly host: number;
  readonly ns: string;
  readonly cni: CniPod;
  ip: string;
}

export interface CniNodesOptions {
  readonly labId: string;
  readonly hosts: readonly LabHost[];
  /** Work directory: the build, the bin dir and a directory per host go here. */
  readonly dir: string;
  /** Where the host's agent writes subnet.env (the conflist's subnetFile). */
  readonly subnetFile: (h: LabHost) => string;
  /** The plugin executable, when already built (several labs in one run build it once). */
  readonly exe?: string | undefined;
}

export interface CniNodes {
  readonly bin: string;
  /** Pods by CNI_CONTAINERID, as long as they are added or not yet deleted. */
  readonly pods: ReadonlyMap<string, CniLabPod>;
  runtime(h: LabHost): CniRuntime;
  /** A new pod sandbox (its network namespace `tt-<lab>-h<N>-<id>`), not yet added. */
  newPod(h: LabHost, id: string, capabilityArgs?: Record<string, unknown>): Promise<CniLabPod>;
  /** ADD through the conflist; sets the pod's address from the result. */
  add(pod: CniLabPod): Promise<CniOutcome>;
  /** DEL through the conflist; forgets the pod when it succeeded. */
  del(pod: CniLabPod): Promise<CniOutcome>;
  /** The addresses host-local holds on the host (its store's files), sorted. */
  addressesHeld(h: LabHost): string[];
  /** The delegate configs the flannel plugin saved on the host (its dataDir). */
  savedConfigs(h: LabHost): string[];
  /** Deletes every pod namespace made here (not the pods' CNI state: DEL does that). */
  destroy(): Promise<void>;
}

/** kube-flannel's cni-conf.json, with the host's subnet.env and state dirs. */
export function kubeFlannelConf(o: { subnetFile: string; stateDir: string }): string {
  return JSON.stringify({
    name: 'cbr0', cniVersion: '0.3.1',
    plugins: [
      {
        type: 'flannel', delegate: { hairpinMode: true, isDefaultGateway: true },
        subnetFile: o.subnetFile, dataDir: join(o.stateDir, 'flannel'), ipam: { dataDir: join(o.stateDir, 'ipam') },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  }, null, 2);
}

/** Builds the executable, runs install-cni for every host (what the DaemonSet's init container does) and links the delegates. */
export async function installCniNodes(o: CniNodesOptions): Promise<CniNodes> {
  const exe = o.exe ?? await buildCniExecutable(join(o.dir, 'build'));
  const bin = join(o.dir, 'opt-cni-bin');
  const hostDir = (h: LabHost): string => join(o.dir, `h${h.index}`);
  const runtimes = new Map<LabHost, CniRuntime>();
  for (const h of o.hosts) {
    mkdirSync(hostDir(h), { recursive: true });
    writeFileSync(join(hostDir(h), 'cni-conf.json'), kubeFlannelConf({ subnetFile: o.subnetFile(h), stateDir: hostDir(h) }));
    execFileSync(process.execPath, [MAIN, 'install-cni', '--cni-bin-dir', bin, '--cni-conf-dir', join(hostDir(h), 'net.d'),
      '--cni-conf', join(hostDir(h), 'cni-conf.json'), '--cni-plugin', exe], { stdio: ['ignore', 'ignore', 'inherit'] });
    const installed = join(hostDir(h), 'net.d', '10-flannel.conflist');
    runtimes.set(h, cniRuntime({ hostNs: h.ns, binDir: bin, conflist: parseConflist(installed, readFileSync(installed, 'utf8')) }));
  }
  for (const p of DELEGATES) symlinkSync(join(PLUGIN_DIR, p), join(bin, p));
  const pods = new Map<string, CniLabPod>();
  const namespaces: string[] = [];
  const runtime = (h: LabHost): CniRuntime => {
    const r = runtimes.get(h);
    if (!r) throw new Error(`${h.ns} has no CNI install`);
    return r;
  };
  const filesIn = (d: string): string[] => (existsSync(d) ? readdirSync(d) : []);
  return {
    bin, pods, runtime,
    newPod: async (h, id, capabilityArgs) => {
      if (pods.has(id)) throw new Error(`pod id ${id} is in use`);
      const ns = `tt-${o.labId}-h${h.index}-${id}`;
      await createNamespace(ns);
      namespaces.push(ns);
      const pod: CniLabPod = { node: h, host: h.index, ns, cni: { id, netns: `/var/run/netns/${ns}`, capabilityArgs }, ip: '' };
      pods.set(id, pod);
      return pod;
    },
    add: async (pod) => {
      const out = await runtime(pod.node).add(pod.cni);
      pod.ip = podIp(out.result) ?? '';
      return out;
    },
    del: async (pod) => {
      const out = await runtime(pod.node).del(pod.cni);
      if (out.ok) pods.delete(pod.cni.id);
      return out;
    },
    addressesHeld: (h) => filesIn(join(hostDir(h), 'ipam', 'cbr0')).filter((f) => /^[\d.]+$/.test(f)).sort(),
    savedConfigs: (h) => filesIn(join(hostDir(h), 'flannel')),
    destroy: async () => {
      for (const ns of namespaces.splice(0)) await deleteNamespace(ns).catch(() => undefined);
    },
  };
}

/** ADDs `count` pods on each host (ids `h<N>p<M>`); throws with the CNI error of the first that fails. */
export async function addPodsEverywhere(nodes: CniNodes, hosts: readonly LabHost[], count: number): Promise<CniLabPod[]> {
  const out: CniLabPod[] = [];
  for (const h of hosts) {
    for (let m = 1; m <= count; m++) {
      const pod = await nodes.newPod(h, `h${h.index}p${m}`);
      const res = await nodes.add(pod);
      if (!res.ok) throw new Error(`ADD ${pod.cni.id} on ${h.ns}: ${res.failedPlugin}: ${JSON.stringify(res.error)}`);
      out.push(pod);
    }
  }
  return out;
}
