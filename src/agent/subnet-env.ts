// /run/flannel/subnet.env, exactly as flanneld writes it (CNI plugins read it),
// written atomically: a temp file in the same directory, then rename.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { InvalidInputError } from '../errors.ts';
import { type Cidr, firstHost, formatCidr, normalize, parseCidr } from '../net/cidr.ts';

export interface SubnetEnv {
  readonly network?: Cidr | undefined;
  readonly subnet?: Cidr | undefined;
  readonly ipv6Network?: Cidr | undefined;
  readonly ipv6Subnet?: Cidr | undefined;
  readonly mtu: number;
  readonly ipMasq: boolean;
}

export function renderSubnetEnv(env: SubnetEnv): string {
  const lines: string[] = [];
  if (env.network) lines.push(`FLANNEL_NETWORK=${formatCidr(env.network)}`);
  if (env.subnet) lines.push(`FLANNEL_SUBNET=${firstHost(env.subnet)}/${env.subnet.prefix}`);
  if (env.ipv6Network) lines.push(`FLANNEL_IPV6_NETWORK=${formatCidr(env.ipv6Network)}`);
  if (env.ipv6Subnet) lines.push(`FLANNEL_IPV6_SUBNET=${firstHost(env.ipv6Subnet)}/${env.ipv6Subnet.prefix}`);
  lines.push(`FLANNEL_MTU=${env.mtu}`);
  lines.push(`FLANNEL_IPMASQ=${env.ipMasq}`);
  return `${lines.join('\n')}\n`;
}

export function writeSubnetEnv(path: string, env: SubnetEnv): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, renderSubnetEnv(env), { mode: 0o644 });
  renameSync(tmp, path);
}

/** KEY=value pairs of an env file (quotes removed, comments and blanks skipped). */
export function parseEnvFile(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    out.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1'));
  }
  return out;
}

/** Reads subnet.env; undefined when the file does not exist. Bad values name the variable. */
export function readSubnetEnv(path: string): SubnetEnv | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const vars = parseEnvFile(text);
  const cidr = (name: string): Cidr | undefined => {
    const v = vars.get(name);
    return v ? parseCidr(v, `${path}: ${name}`, { allowHostBits: true }) : undefined;
  };
  const subnetOf = (c: Cidr | undefined): Cidr | undefined => (c ? normalize(c) : undefined);
  const mtuText = vars.get('FLANNEL_MTU') ?? '';
  const mtu = Number(mtuText);
  if (mtuText !== '' && (!Number.isInteger(mtu) || mtu <= 0)) throw new InvalidInputError(`${path}: FLANNEL_MTU`, mtuText, 'must be a positive whole number');
  return {
    network: cidr('FLANNEL_NETWORK'),
    subnet: subnetOf(cidr('FLANNEL_SUBNET')),
    ipv6Network: cidr('FLANNEL_IPV6_NETWORK'),
    ipv6Subnet: subnetOf(cidr('FLANNEL_IPV6_SUBNET')),
    mtu: mtuText === '' ? 0 : mtu,
    ipMasq: vars.get('FLANNEL_IPMASQ') === 'true',
  };
}
