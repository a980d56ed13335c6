// What the controller benches share: a controller process against a private etcd
// and the EC2 emulator, leases written the way agents leave them, and the
// controller's own metrics.
import type { Etcd3 } from 'etcd3';
import { encodeLeaseAttrs, subnetKey } from '../../src/lease/index.ts';
import { parseCidr } from '../../src/net/cidr.ts';
import { type AwsWorld, type ControllerProcess, type Host, agentAttrs, awsControllerArgs, awsEnv, spawnController } from '../e2e/controller-kit.ts';
import type { EtcdServer } from '../support/etcd.ts';
import { freePort } from '../support/ports.ts';

// A /8 Network: 5,000 leases of /24 need more room than the usual /16.
export const CONFIG = JSON.stringify({ Network: '10.0.0.0/8', SubnetLen: 24, Backend: { Type: 'vxlan' } });
/** The controller's access key: the emulator's call log is filtered by it. */
export const KEY = 'AKIDBENCH';

/** Writes leases the way agents leave them (one etcd lease keeps them all alive), subnets 10.(i>>8).(i&255).0/24 from `first`. */
export async function putLeases(client: Etcd3, prefix: string, hosts: readonly Host[], first: number): Promise<string[]> {
  const id = await client.lease(3600, { autoKeepAlive: false }).grant();
  const keys = hosts.map((_, i) => subnetKey(parseCidr(`10.${(first + i) >> 8}.${(first + i) & 255}.0/24`, 'subnet')));
  let next = 0;
  await Promise.all(Array.from({ length: 32 }, async () => {
    for (let i = next++; i < hosts.length; i = next++) {
      await client.put(`${prefix}/subnets/${keys[i]}`).value(encodeLeaseAttrs(agentAttrs(hosts[i]!))).lease(id).exec();
    }
  }));
  return keys;
}

export async function startController(
  world: AwsWorld, etcd: EtcdServer, prefix: string, quota: number, o: { env?: Record<string, string>; main?: string } = {},
): Promise<{ ctl: ControllerProcess; metricsPort: number }> {
  const metricsPort = await freePort();
  const args = [...awsControllerArgs(world, { etcd: etcd.endpoint, prefix, quota, resync: '2s', ttl: '15s', logLevel: 'warn' }), '--metrics-port', String(metricsPort)];
  return { ctl: spawnController({ identity: 'bench', args, env: { ...awsEnv(KEY), ...o.env }, ...(o.main ? { main: o.main } : {}) }), metricsPort };
}

export async function metric(port: number, line: RegExp): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return text.split('\n').filter((l) => line.test(l)).reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

