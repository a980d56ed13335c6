// Choosing the external interface and public IP the way flanneld does:
// --iface (names or IPs, in order), else --iface-regex (IPs first, then names),
// else --iface-can-reach, else the interface of the default route.
import { InvalidInputError } from '../errors.ts';
import type { ExternalInterface, InterfaceView, ObservedInterface } from './interfaces.ts';
import { parseIp } from './cidr.ts';

export interface IfaceChoice {
  readonly ifaces: readonly string[];
  readonly ifaceRegex: readonly string[];
  /** Device found for --iface-can-reach (the caller asks the kernel). */
  readonly canReachDev?: string | undefined;
  readonly publicIp?: string | undefined;
  readonly publicIpv6?: string | undefined;
  readonly wantIpv4: boolean;
  readonly wantIpv6: boolean;
}

export function chooseExternalInterface(view: InterfaceView, choice: IfaceChoice): ExternalInterface {
  const iface = pick(view, choice);
  const ipv4 = globalAddr(iface, 4);
  const ipv6 = globalAddr(iface, 6);
  if (choice.wantIpv4 && !ipv4 && !choice.publicIp) {
    throw new InvalidInputError('--iface', iface.name, 'the interface has no global IPv4 address; pass --public-ip or choose another --iface');
  }
  if (choice.wantIpv6 && !ipv6 && !choice.publicIpv6) {
    throw new InvalidInputError('--iface', iface.name, 'the interface has no global IPv6 address; pass --public-ipv6 or choose another --iface');
  }
  if (choice.publicIp !== undefined && parseIp(choice.publicIp, '--public-ip').family !== 4) {
    throw new InvalidInputError('--public-ip', choice.publicIp, 'must be an IPv4 address');
  }
  if (choice.publicIpv6 !== undefined && parseIp(choice.publicIpv6, '--public-ipv6').family !== 6) {
    throw new InvalidInputError('--public-ipv6', choice.publicIpv6, 'must be an IPv6 address');
  }
  return {
    name: iface.name,
    index: iface.index,
    mtu: iface.mtu,
    ipv4,
    ipv6,
    publicIp: choice.publicIp ?? ipv4 ?? '',
    publicIpv6: choice.wantIpv6 ? choice.publicIpv6 ?? ipv6 : undefined,
  };
}

function pick(view: InterfaceView, choice: IfaceChoice): ObservedInterface {
  const byName = (name: string): ObservedInterface | undefined => view.interfaces.find((i) => i.name === name);
  const byIp = (ip: string): ObservedInterface | undefined => view.interfaces.find((i) => i.addrs.some((a) => a.local === ip));
  for (const spec of choice.ifaces) {
    const found = isIp(spec) ? byIp(spec) : byName(spec);
    if (found) return found;
  }
  if (choice.ifaces.length > 0) throw new InvalidInputError('--iface', choice.ifaces, 'no interface has that name or address');
  if (choice.ifaceRegex.length > 0) {
    for (const pattern of choice.ifaceRegex) {
      const re = compile(pattern);
      const found = view.interfaces.find((i) => i.addrs.some((a) => re.test(a.local))) ?? view.interfaces.find((i) => re.test(i.name));
      if (found) return found;
    }
    throw new InvalidInputError('--iface-regex', choice.ifaceRegex, 'no interface name or address matches');
  }
  if (choice.canReachDev) {
    const found = byName(choice.canReachDev);
    if (found) return found;
  }
  const dev = choice.wantIpv4 ? view.defaultDev : view.defaultDev6 ?? view.defaultDev;
  const found = dev ? byName(dev) : undefined;
  if (!found) throw new InvalidInputError('--iface', undefined, 'there is no default route to choose the interface from; pass --iface');
  return found;
}

function globalAddr(iface: ObservedInterface, family: 4 | 6): string | undefined {
  return iface.addrs.find((a) => a.family === family && a.scope === 'global')?.local;
}

function isIp(text: string): boolean {
  try {
    parseIp(text);
    return true;
  } catch {
    return false;
  }
}

function compile(pattern: string): RegExp {
  try {
    return new RegExp(pattern);
  } catch (err) {
    throw new InvalidInputError('--iface-regex', pattern, 'is not a valid regular expression', { cause: err });
  }
}
