// What one peer lease needs on a vxlan host, per family. Pure.
//   fdb   <VtepMAC> dst <PublicIP> self permanent     (where the peer's VTEP lives)
//   neigh <subnet address> lladdr <VtepMAC> permanent  (no ARP across the overlay)
//   route <subnet> via <subnet address> onlink         (the overlay path)
// With DirectRouting and the peer on a directly connected network, only a plain
// route via its PublicIP on the external interface (no encapsulation).
import { InvalidInputError } from '../../errors.ts';
import { type JsonValue, type Lease, backendField } from '../../lease/lease.ts';
import { type Cidr, type Family, formatIp } from '../../net/cidr.ts';
import { type KernelObject, ipv4Text, isUnicastMac, normalizeMac, onConnectedNetwork, prefixText } from '../../kernel/index.ts';
import { type PeerObjects, peerAddress } from './peer.ts';

export interface VxlanFamilyContext {
  /** flannel.<VNI> or flannel-v6.<VNI>. */
  readonly device: string;
}

export interface VxlanPeerContext {
  readonly v4?: VxlanFamilyContext | undefined;
  readonly v6?: VxlanFamilyContext | undefined;
  /** Set when DirectRouting is on: the external interface and the networks it is directly connected to. */
  readonly direct?: { readonly dev: string; readonly networks: readonly Cidr[] } | undefined;
}

export function vxlanPeerObjects(lease: Lease, ctx: VxlanPeerContext): PeerObjects {
  const objects: KernelObject[] = [];
  const problems: InvalidInputError[] = [];
  const families: Array<[Family, VxlanFamilyContext | undefined]> = [[4, ctx.v4], [6, ctx.v6]];
  for (const [family, fam] of families) {
    if (fam === undefined) continue;
    try {
      objects.push(...familyObjects(lease, family, fam, ctx.direct));
    } catch (err) {
      if (!(err instanceof InvalidInputError)) throw err;
      problems.push(err);
    }
  }
  return { objects, problems };
}

function familyObjects(
  lease: Lease, family: Family, fam: VxlanFamilyContext, direct: VxlanPeerContext['direct'],
): KernelObject[] {
  const subnet = family === 4 ? lease.subnet : lease.ipv6Subnet;
  if (subnet === undefined) return []; // a v4-only peer in a dual-stack network: nothing to do in v6
  const publicIp = peerAddress(lease, family);
  const dst = prefixText(subnet);
  if (direct !== undefined && onConnectedNetwork(publicIp, direct.networks)) {
    return [{ kind: 'route', dst, via: publicIp, dev: direct.dev, onlink: false }];
  }
  const dataField = family === 4 ? 'BackendData' : 'BackendV6Data';
  const mac = vtepMac(family === 4 ? lease.attrs.backendData : lease.attrs.backendV6Data, `lease ${lease.key}.${dataField}.VtepMAC`);
  const gateway = family === 4 ? ipv4Text(subnet.addr) : formatIp(6, subnet.addr);
  return [
    { kind: 'fdb', dev: fam.device, mac, dst: publicIp },
    { kind: 'neigh', dev: fam.device, ip: gateway, mac },
    { kind: 'route', dst, via: gateway, dev: fam.device, onlink: true },
  ];
}

function vtepMac(data: JsonValue | undefined, field: string): string {
  const raw = backendField(data, 'VtepMAC');
  const mac = typeof raw === 'string' ? normalizeMac(raw) : undefined;
  if (mac === undefined) throw new InvalidInputError(field, raw, 'must be a MAC address like 8e:5a:0d:07:0f:0d');
  if (!isUnicastMac(mac)) throw new InvalidInputError(field, raw, 'must be a unicast MAC address');
  return mac;
}

/** flannel's BackendData for a vxlan lease: `{"VNI":1,"VtepMAC":"8e:5a:…"}`. */
export function vxlanBackendData(vni: number, mac: string): JsonValue {
  return { VNI: vni, VtepMAC: mac };
}
