// subnet.env as flannel's CNI plugin reads it: FLANNEL_NETWORK and FLANNEL_IPV6_NETWORK may
// be comma lists (deduplicated); ADD needs a network, a subnet, FLANNEL_MTU and
// FLANNEL_IPMASQ. The agent writes the file (src/agent/subnet-env.ts); this side only reads.
import { parseEnvFile } from '../agent/subnet-env.ts';
import { InvalidInputError } from '../errors.ts';
import { type Cidr, type Family, equalCidr, normalize, parseCidr } from '../net/cidr.ts';
import { CniCode, CniError } from './errors.ts';

export const DEFAULT_SUBNET_FILE = '/run/flannel/subnet.env';

export interface FlannelEnv {
  /** FLANNEL_NETWORK entries (IPv4), deduplicated, in file order. */
  readonly networks: readonly Cidr[];
  readonly ipv6Networks: readonly Cidr[];
  /** FLANNEL_SUBNET with host bits cleared (10.244.1.1/24 → 10.244.1.0/24). */
  readonly subnet?: Cidr | undefined;
  readonly ipv6Subnet?: Cidr | undefined;
  readonly mtu: number;
  readonly ipMasq: boolean;
}

/** The error for a subnet.env that does not exist (yet). */
export function missingSubnetFile(path: string, code: number = CniCode.tryAgainLater): CniError {
  return new CniError(code, `${path} does not exist: the tartan (or flannel) agent on this host has not written it yet; ` +
    'is the agent running? (its log says why it has no lease)');
}

/** Parses subnet.env `text` read from `path`; errors name the file and the variable. */
export function parseSubnetFile(path: string, text: string): FlannelEnv {
  const vars = parseEnvFile(text);
  try {
    const networks = cidrList(vars.get('FLANNEL_NETWORK'), `${path}: FLANNEL_NETWORK`, 4);
    const ipv6Networks = cidrList(vars.get('FLANNEL_IPV6_NETWORK'), `${path}: FLANNEL_IPV6_NETWORK`, 6);
    const subnet = oneSubnet(vars.get('FLANNEL_SUBNET'), `${path}: FLANNEL_SUBNET`, 4);
    const ipv6Subnet = oneSubnet(vars.get('FLANNEL_IPV6_SUBNET'), `${path}: FLANNEL_IPV6_SUBNET`, 6);
    const mtuText = vars.get('FLANNEL_MTU');
    const ipMasqText = vars.get('FLANNEL_IPMASQ');
    const missing = [
      ...(networks.length === 0 && ipv6Networks.length === 0 ? ['FLANNEL_NETWORK or FLANNEL_IPV6_NETWORK'] : []),
      ...(!subnet && !ipv6Subnet ? ['FLANNEL_SUBNET or FLANNEL_IPV6_SUBNET'] : []),
      ...(mtuText === undefined ? ['FLANNEL_MTU'] : []),
      ...(ipMasqText === undefined ? ['FLANNEL_IPMASQ'] : []),
    ];
    if (missing.length > 0) {
      throw new CniError(CniCode.decodeFailure, `${path} is missing ${missing.join(', ')} (the agent's log says why)`);
    }
    const mtu = Number(mtuText);
    if (!/^\d+$/.test(mtuText ?? '') || mtu <= 0 || mtu > 65535) {
      throw new InvalidInputError(`${path}: FLANNEL_MTU`, mtuText, 'must be a whole number 1..65535');
    }
    return { networks, ipv6Networks, subnet, ipv6Subnet, mtu, ipMasq: ipMasqText === 'true' };
  } catch (err) {
    if (err instanceof InvalidInputError) throw new CniError(CniCode.decodeFailure, err.message, { cause: err });
    throw err;
  }
}

function cidrList(text: string | undefined, field: string, family: Family): Cidr[] {
  const out: Cidr[] = [];
  for (const part of (text ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const cidr = familyChecked(normalize(parseCidr(part, field, { allowHostBits: true })), part, field, family);
    if (!out.some((c) => equalCidr(c, cidr))) out.push(cidr);
  }
  return out;
}

function oneSubnet(text: string | undefined, field: string, family: Family): Cidr | undefined {
  if (text === undefined || text === '') return undefined;
  return familyChecked(normalize(parseCidr(text, field, { allowHostBits: true })), text, field, family);
}

function familyChecked(cidr: Cidr, text: string, field: string, family: Family): Cidr {
  if (cidr.family !== family) throw new InvalidInputError(field, text, `must be an IPv${family} prefix`);
  return cidr;
}
