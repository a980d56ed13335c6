// Debian's real dockerd on a lab host (reference/runtimes.md §2). `ip netns exec` hides
// the cgroup mounts from dockerd, so it is entered as runtimes.md says: a private mount
// namespace (`unshare -m`) + the host's network namespace (`nsenter --net`). Inside
// that mount namespace /etc/docker and /run are bind-mounted from the test's own
// directory, so the trust key dockerd 20.10 writes (/etc/docker/key.json), its plugin
// dir (/run/docker) and containerd's shim sockets (/run/containerd) stay there too.
// Data root, exec root, pidfile and API socket are under that directory as well, the
// containers' cgroups under a parent named after the host, and the daemon is stopped by
// its PID. Its firewall is Docker's stock one: --iptables is left on and, as on a fresh
// host, forwarding is off until dockerd starts (the lab host's ip_forward is set to 0
// first), so dockerd switches it on and sets FORWARD's policy to DROP. The image is busybox-static imported
// offline (no registry).
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, symlinkSync, copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { collectOutput, spawnTracked, stopChild } from '../support/process.ts';
import { waitFor } from '../support/wait.ts';
import { MAIN } from './agents.ts';
import type { LabHost } from './lab.ts';
import { type RunResult, nsSysctl, run, runChecked } from './netns.ts';
import { type PingResult, parsePing } from './ping.ts';

export const DOCKERD = '/usr/sbin/dockerd';
/** Debian's client, matching the daemon (a newer /usr/local/bin/docker may come first in PATH). */
export const DOCKER = '/usr/bin/docker';
export const BUSYBOX = '/bin/busybox';
export const LAB_IMAGE = 'tartan-lab/busybox:1';
const APPLETS = ['sh', 'ping', 'ip', 'ifconfig', 'route', 'cat', 'ls', 'sleep', 'echo', 'nc', 'wget', 'hostname', 'ps'];
const CGROUP_ROOT = '/sys/fs/cgroup';

/** Throws naming what is missing for Docker on lab hosts (a missing package is a failure, not a skip). */
export function assertDockerInstalled(): void {
  for (const f of [DOCKERD, DOCKER, BUSYBOX, '/etc/docker', '/usr/sbin/iptables-restore']) {
    if (!existsSync(f)) throw new Error(`${f} is missing: install docker.io, iptables and busybox-static (scripts/install-deps.sh)`);
  }
}

/** The daemon options `tartan docker-opts` writes for a subnet.env (the combined DOCKER_OPTS line, split). */
export async function dockerOptsFor(subnetFile: string): Promise<string[]> {
  const out = await runChecked(process.execPath, [MAIN, 'docker-opts', '--subnet-file', subnetFile, '--docker-opts-file', '-', '--combined']);
  const m = /^DOCKER_OPTS="(.*)"$/m.exec(out);
  if (!m) throw new Error(`tartan docker-opts printed no DOCKER_OPTS line:\n${out}`);
  return m[1]!.trim().split(/\s+/);
}

/** A busybox root filesystem as a tar file in `dir` (about 2 MB), for `docker import`. */
export async function buildBusyboxTar(dir: string): Promise<string> {
  const root = join(dir, 'busybox-rootfs');
  for (const d of ['bin', 'etc', 'proc', 'sys', 'dev', 'tmp']) mkdirSync(join(root, d), { recursive: true });
  copyFileSync(BUSYBOX, join(root, 'bin', 'busybox'));
  for (const a of APPLETS) symlinkSync('busybox', join(root, 'bin', a));
  writeFileSync(join(root, 'etc', 'passwd'), 'root:x:0:0:root:/:/bin/sh\n');
  writeFileSync(join(root, 'etc', 'group'), 'root:x:0:\n');
  const tar = join(dir, 'busybox-rootfs.tar');
  await runChecked('tar', ['-C', root, '-cf', tar, '.']);
  return tar;
}

export interface LabContainer {
  readonly name: string;
  readonly ip: string;
  readonly dockerd: LabDockerd;
}

export interface LabDockerd {
  readonly host: LabHost;
  readonly dir: string;
  readonly pid: number;
  /** The `docker` client against this daemon (bounded in time). */
  docker(args: readonly string[], timeoutMs?: number): Promise<RunResult>;
  /** Imports the busybox tar as LAB_IMAGE. */
  importImage(tar: string): Promise<void>;
  /** A detached container that sleeps; resolves with its address on docker0. */
  runContainer(name: string): Promise<LabContainer>;
  /** The last lines of dockerd's log, for failure messages. */
  logTail(lines?: number): string;
  /** Removes the containers, stops dockerd by PID, and removes its cgroup parents. */
  stop(): Promise<void>;
}

export interface DockerdOptions {
  /** The test's directory: the daemon's files go to `<dir>/docker-h<N>`. */
  readonly dir: string;
  /** Daemon options, e.g. from dockerOptsFor(). */
  readonly options: readonly string[];
}

export async function startLabDockerd(host: LabHost, o: DockerdOptions): Promise<LabDockerd> {
  const dir = join(o.dir, `docker-h${host.index}`);
  for (const d of ['data', 'exec', 'run', 'etc']) mkdirSync(join(dir, d), { recursive: true });
  const socket = join(dir, 'docker.sock');
  const cgroupParent = `tartan-lab-${host.ns}`;
  // dockerd sets FORWARD's policy to DROP only when it is the one that turns forwarding on.
  await nsSysctl(host.ns, { 'net.ipv4.ip_forward': 0 });
  const args = [
    '--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec'), '--pidfile', join(dir, 'docker.pid'),
    '-H', `unix://${socket}`, '--storage-driver', 'overlay2', '--cgroup-parent', cgroupParent, '--shutdown-timeout', '3',
    ...o.options,
  ];
  // unshare and nsenter exec through and sh execs dockerd: the child's PID is dockerd's.
  const script = 'mount --bind "$0/etc" /etc/docker && mount --bind "$0/run" /run && exec "$@"';
  const child = spawnTracked('unshare', ['-m', '--propagation', 'private', 'nsenter', `--net=/run/netns/${host.ns}`,
    'sh', '-c', script, dir, DOCKERD, ...args]);
  const log = collectOutput(child);
  const logTail = (n = 30): string => log.lines.slice(-n).join('\n');
  const docker = (a: readonly string[], timeoutMs = 60_000): Promise<RunResult> => run(DOCKER, ['-H', `unix://${socket}`, ...a], { timeoutMs });
  const exited = new AbortController();
  child.once('exit', (code, sig) => exited.abort(new Error(`dockerd on ${host.ns} exited (${code ?? sig}):\n${logTail()}`)));
  let pid: number;
  try {
    await waitFor(`dockerd on ${host.ns} to answer`, async () => (await docker(['version'], 5_000)).code === 0, { timeoutMs: 30_000, everyMs: 200, signal: exited.signal, details: logTail });
    pid = Number(readFileSync(join(dir, 'docker.pid'), 'utf8').trim());
    if (pid !== child.pid) throw new Error(`dockerd's pidfile says ${pid}, the started process is ${child.pid}`);
  } catch (err) {
    await stopChild(child, 'SIGTERM', 10_000);
    throw err;
  }
  const d: LabDockerd = {
    host, dir, pid, docker, logTail,
    importImage: async (tar) => {
      await checked(d, ['import', tar, LAB_IMAGE]);
    },
    runContainer: async (name) => {
      await checked(d, ['run', '-d', '--name', name, LAB_IMAGE, 'sleep', '3600']);
      const ip = (await checked(d, ['inspect', '-f', '{{.NetworkSettings.IPAddress}}', name])).trim();
      if (ip === '') throw new Error(`container ${name} on ${host.ns} has no address on docker0`);
      return { name, ip, dockerd: d };
    },
    stop: () => stopDockerd(child, d, cgroupParent),
  };
  return d;
}

async function checked(d: LabDockerd, args: readonly string[]): Promise<string> {
  const res = await d.docker(args);
  if (res.code !== 0) throw new Error(`docker ${args.join(' ')} on ${d.host.ns} exited ${res.code}: ${res.stderr.trim()}\ndockerd:\n${d.logTail(10)}`);
  return res.stdout;
}

async function stopDockerd(child: ChildProcess, d: LabDockerd, cgroupParent: string): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const ids = (await d.docker(['ps', '-aq'], 10_000)).stdout.split('\n').filter((l) => l.trim() !== '');
    if (ids.length > 0) await d.docker(['rm', '-f', ...ids], 30_000);
  }
  await stopChild(child, 'SIGTERM', 15_000);
  removeCgroupParents(cgroupParent);
}

/** rmdir of the (now empty) cgroup parent in every hierarchy: only the name this lab host's dockerd used. */
function removeCgroupParents(name: string): void {
  if (!existsSync(CGROUP_ROOT)) return;
  for (const hierarchy of readdirSync(CGROUP_ROOT)) {
    const dir = join(CGROUP_ROOT, hierarchy, name);
    if (existsSync(dir)) rmdirSync(dir);
  }
}

/** `iptables-save -t filter` (or ip6tables-save) inside a lab host. */
export function filterTable(host: LabHost, family: 4 | 6 = 4): Promise<string> {
  return runChecked('ip', ['netns', 'exec', host.ns, family === 4 ? 'iptables-save' : 'ip6tables-save', '-t', 'filter']);
}

/** `ping` from inside a container (busybox ping), counted like the lab's pings. */
export async function containerPing(c: LabContainer, to: string, o: { count?: number; timeout?: number } = {}): Promise<PingResult> {
  const count = o.count ?? 2;
  const res = await c.dockerd.docker(['exec', c.name, 'ping', '-c', String(count), '-W', String(o.timeout ?? 2), to], (count + (o.timeout ?? 2) + 10) * 1000);
  return parsePing(res.stdout + res.stderr, count);
}
