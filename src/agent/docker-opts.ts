// mk-docker-opts.sh: subnet.env → Docker daemon options.
import type { SubnetEnv } from './subnet-env.ts';
import { firstHost, formatCidr } from '../net/cidr.ts';

export interface DockerOptsFormat {
  /** DOCKER_OPT_BIP=… one variable per option. */
  readonly individual: boolean;
  /** One combined line under `combinedKey`. */
  readonly combined: boolean;
  readonly combinedKey: string;
  /** Leave out --ip-masq (older Docker). */
  readonly omitIpMasq: boolean;
}

export function renderDockerOpts(env: SubnetEnv, format: DockerOptsFormat): string {
  const opts: [string, string][] = [];
  if (env.subnet) opts.push(['DOCKER_OPT_BIP', `--bip=${firstHost(env.subnet)}/${env.subnet.prefix}`]);
  // When flannel masquerades, Docker must not (mk-docker-opts inverts FLANNEL_IPMASQ).
  if (!format.omitIpMasq && env.ipMasq) opts.push(['DOCKER_OPT_IPMASQ', '--ip-masq=false']);
  if (env.mtu > 0) opts.push(['DOCKER_OPT_MTU', `--mtu=${env.mtu}`]);
  if (env.ipv6Subnet) {
    opts.push(['DOCKER_OPT_IPV6', '--ipv6']);
    opts.push(['DOCKER_OPT_FIXED_CIDR_V6', `--fixed-cidr-v6=${formatCidr(env.ipv6Subnet)}`]);
  }
  const lines: string[] = [];
  if (format.individual) for (const [k, v] of opts) lines.push(`${k}="${v}"`);
  if (format.combined) lines.push(`${format.combinedKey}=" ${opts.map(([, v]) => v).join(' ')}"`);
  return `${lines.join('\n')}\n`;
}
