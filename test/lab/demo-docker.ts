// `npm run demo -- --docker [--keep] [--backend host-gw] [--hosts N]`: Docker hosts on
// tartan. Every host runs a real `tartan agent`; all but the last also run Debian's
// dockerd with `tartan docker-opts`' options and Docker's stock firewall (FORWARD
// policy DROP) and one busybox container; the last host has a plain pod on cni0.
// Prints each host's subnet, FORWARD policy and tartan's forward rules, the
// containers and pods with their addresses, and a ping matrix between all of them.
import { type DockerCluster, startDockerCluster } from './docker-cluster.ts';
import { DOCKER, type LabContainer, containerPing, filterTable } from './docker.ts';
import { ping } from './ping.ts';

export interface DockerDemoOptions {
  readonly keep: boolean;
  readonly backend: string;
  readonly hosts: number;
  readonly say: (line: string) => void;
  /** Resolves at Ctrl-C. */
  readonly untilStopped: () => Promise<void>;
}

interface Endpoint {
  readonly name: string;
  readonly kind: string;
  readonly host: string;
  readonly ip: string;
  ping(to: string): Promise<boolean>;
}

export async function runDockerDemo(o: DockerDemoOptions): Promise<number> {
  const { say } = o;
  const hosts = Math.max(2, o.hosts);
  say(`starting ${hosts} hosts (${o.backend}), dockerd on h1–h${hosts - 1}…`);
  let cluster: DockerCluster | undefined;
  try {
    cluster = await startDockerCluster({
      hosts, dockerHosts: Array.from({ length: hosts - 1 }, (_, i) => i + 1), backend: o.backend, agentArgs: ['--ip-masq'],
    });
    const { lab } = cluster;
    say(`lab ${lab.id}: cluster Network ${lab.network}, backend ${o.backend}, files in ${cluster.dir}`);
    for (const h of lab.hosts) {
      const save = await filterTable(h);
      const policy = /^:FORWARD (\w+)/m.exec(save)?.[1] ?? '?';
      const rules = save.split('\n').filter((l) => l.startsWith('-A TARTAN-FWD')).map((l) => l.replace(/ -m comment .*-j /, ' -j ').replace('-A TARTAN-FWD ', ''));
      say(`  ${short(h.ns)}  eth0 ${h.ip}  subnet ${cluster.subnets.get(h)!.text}  FORWARD policy ${policy}  TARTAN-FWD: ${rules.join(', ') || '(none)'}`);
    }
    const endpoints = [
      ...cluster.containers.map((c) => containerEndpoint(c)),
      ...cluster.pods.map((p) => ({ name: `pod-${short(p.ns)}`, kind: 'pod', host: `h${p.host}`, ip: p.ip, ping: async (to: string) => (await ping(p.ns, to, { count: 1, timeout: 1 })).received === 1 })),
    ];
    say('\ncontainers and pods:');
    for (const e of endpoints) say(`  ${e.name.padEnd(10)} ${e.kind.padEnd(9)} on ${e.host}  ${e.ip}`);
    const failed = await printMatrix(say, endpoints);
    if (o.keep) {
      const c = cluster.containers[0]!;
      say(`\nkept up. In another terminal (as root):`);
      say(`  a container:      ${DOCKER} -H unix://${c.dockerd.dir}/docker.sock exec -it ${c.name} sh`);
      say(`  a host's firewall: ip netns exec ${lab.hosts[0]!.ns} iptables-save -t filter`);
      say(`  agent logs:        ${cluster.dir}/<host>.log`);
      say(`tear down: press Ctrl-C here (containers, dockerd, agents, etcd and every tt-${lab.id}-* namespace are removed)`);
      await o.untilStopped();
      say('tearing down…');
    }
    return failed === 0 ? 0 : 1;
  } finally {
    await cluster?.destroy();
  }
}

function short(ns: string): string {
  return ns.slice(ns.lastIndexOf('-') + 1);
}

function containerEndpoint(c: LabContainer): Endpoint {
  return {
    name: c.name, kind: 'container', host: short(c.dockerd.host.ns), ip: c.ip,
    ping: async (to) => (await containerPing(c, to, { count: 1, timeout: 1 })).received === 1,
  };
}

/** Agents program peers as leases arrive: each pair gets up to 10 s to answer. */
async function printMatrix(say: (l: string) => void, eps: readonly Endpoint[]): Promise<number> {
  const width = Math.max(...eps.map((e) => `${e.name} ${e.ip}`.length));
  say(`\nping (from row to column):\n${''.padEnd(width)}  ${eps.map((e) => e.name.padEnd(9)).join(' ')}`.trimEnd());
  let failed = 0;
  for (const from of eps) {
    const row: string[] = [];
    for (const to of eps) {
      if (from === to) {
        row.push('-');
        continue;
      }
      const ok = await untilAnswers(from, to.ip);
      if (!ok) failed++;
      row.push(ok ? 'ok' : 'FAIL');
    }
    say(`${`${from.name} ${from.ip}`.padEnd(width)}  ${row.map((c) => c.padEnd(9)).join(' ')}`.trimEnd());
  }
  const pairs = eps.length * (eps.length - 1);
  say(failed === 0 ? `\nall ${pairs} pairs reachable` : `\n${failed} of ${pairs} pairs NOT reachable`);
  return failed;
}

async function untilAnswers(from: Endpoint, to: string): Promise<boolean> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (await from.ping(to)) return true;
    if (Date.now() > deadline) return false;
  }
}
