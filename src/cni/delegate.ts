// The delegate config, built exactly as flannel's plugin builds it (flannel_linux.go doCmdAdd):
// the user's delegate keys win for type, ipMasq, mtu and isGateway; name, cniVersion, ipam
// and runtimeConfig are flannel's. Keys come out sorted at every level, as Go's encoding/json
// writes a map, so the saved file matches flannel's byte for byte.
import { type Cidr, formatCidr } from '../net/cidr.ts';
import { type JsonObject, type NetConf, isObject } from './netconf.ts';
import type { FlannelEnv } from './subnet-file.ts';

export function buildDelegate(conf: NetConf, env: FlannelEnv): JsonObject {
  const d: JsonObject = { ...conf.delegate };
  if (conf.runtimeConfig) d['runtimeConfig'] = conf.runtimeConfig;
  d['name'] = conf.name;
  if (!('type' in d)) d['type'] = 'bridge';
  if (!('ipMasq' in d)) d['ipMasq'] = !env.ipMasq;
  if (!('mtu' in d)) d['mtu'] = env.mtu;
  if (d['type'] === 'bridge' && !('isGateway' in d)) d['isGateway'] = true;
  if (conf.cniVersion !== '') d['cniVersion'] = conf.cniVersion;
  d['ipam'] = delegateIpam(conf, env);
  return sortKeys(d) as JsonObject;
}

function delegateIpam(conf: NetConf, env: FlannelEnv): JsonObject {
  const ipam: JsonObject = { ...conf.ipam };
  if (!('type' in ipam)) ipam['type'] = 'host-local';
  ipam['ranges'] = [env.subnet, env.ipv6Subnet].filter((s): s is Cidr => s !== undefined).map((s) => [{ subnet: formatCidr(s) }]);
  const userRoutes = Array.isArray(conf.ipam?.['routes']) ? conf.ipam['routes'] as unknown[] : [];
  ipam['routes'] = [...userRoutes, ...[...env.networks, ...env.ipv6Networks].map((n) => ({ dst: formatCidr(n) }))];
  return ipam;
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (!isObject(v)) return v;
  return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys(v[k])]));
}

/** The delegate's `type`: which plugin binary on CNI_PATH does the work. */
export function delegateType(delegate: JsonObject): string {
  const t = delegate['type'];
  return typeof t === 'string' ? t : 'bridge';
}
