// flannel0: the udp backend's TUN device, set up exactly as flannel's udp backend
// does (pkg/backend/udp/udp_network_amd64.go): kernel-named `flannel%d`, MTU =
// link MTU − 28, the lease subnet's network address as /32, up, and ONE route for
// the whole Network through it (no per-peer routes: the userspace proxy picks the
// peer). The device is not persistent: it goes when its fd closes (agent exit).
import { writeFileSync } from 'node:fs';
import type { Logger } from '../../observe/log.ts';
import { runTool, runToolChecked } from '../exec.ts';
import { TARTAN_ROUTE_PROTO } from '../objects.ts';
import type { TunAddon, TunHandle } from './addon.ts';

export interface TunDeviceSpec {
  /** The name pattern or name, e.g. `flannel%d` (the kernel picks the first free number). */
  readonly name: string;
  readonly mtu: number;
  /** The lease subnet's network address (e.g. 10.5.34.0), given /32. */
  readonly address: string;
  /** The cluster Network (e.g. 10.5.0.0/16), routed through the device. */
  readonly network: string;
}

export interface TunDevice {
  readonly name: string;
  readonly handle: TunHandle;
}

/** Opens and configures the device in this process's network namespace; closes it again if any step fails. */
export async function openTunDevice(addon: TunAddon, spec: TunDeviceSpec, log: Logger): Promise<TunDevice> {
  const { handle, name } = addon.open(spec.name);
  try {
    // Before the link is up: no IPv6 link-local address, so the kernel sends no IPv6 into
    // the TUN (flannel's proxy would parse it as IPv4); and accept_local, so the ICMP net
    // unreachable written back from flannel0's own address is not dropped as martian.
    sysctl(`net/ipv6/conf/${name}/disable_ipv6`, '1', log);
    sysctl(`net/ipv4/conf/${name}/accept_local`, '1', log);
    await runToolChecked('ip', ['-batch', '-'], {
      input: [`link set dev ${name} mtu ${spec.mtu}`, `address add ${spec.address}/32 dev ${name}`, `link set dev ${name} up`].join('\n') + '\n',
    });
    const route = await runTool('ip', ['route', 'add', spec.network, 'dev', name, 'proto', String(TARTAN_ROUTE_PROTO)]);
    // flannel ignores EEXIST: something else already routes the Network (say so, do not replace it).
    if (route.code !== 0 && /File exists/.test(route.stderr)) log.warn({ network: spec.network, dev: name }, 'a route for the Network exists already; left as it is');
    else if (route.code !== 0) throw new Error(`ip route add ${spec.network} dev ${name}: ${route.stderr.trim()}`);
    return { name, handle };
  } catch (err) {
    addon.close(handle);
    throw err;
  }
}

function sysctl(path: string, value: string, log: Logger): void {
  try {
    writeFileSync(`/proc/sys/${path}`, value);
  } catch (err) {
    log.warn({ sysctl: path, err: (err as Error).message }, 'could not set a sysctl on the TUN device');
  }
}
