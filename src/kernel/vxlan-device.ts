// The vxlan device (flannel.<VNI> / flannel-v6.<VNI>). Its MAC is the VTEP address
// every peer has in its neigh and fdb tables, so a restart must keep it: an existing
// device whose identity (VNI, port, local address, underlay link, GBP) still matches
// is reused as it is; only mutable attributes (learning, MTU, up) are adjusted in
// place. When the identity changed the device is re-created — with the same MAC.
import { randomBytes } from 'node:crypto';
import { ConflictError } from '../errors.ts';
import type { Logger } from '../observe/log.ts';
import { type KernelTarget, runToolChecked } from './exec.ts';
import { type AddressInfo, type LinkInfo, getLink } from './link.ts';
import { canonicalIp } from './observe.ts';

export interface VxlanDeviceSpec {
  readonly name: string;
  readonly vni: number;
  /** UDP port; flannel's Port 0 means the kernel default 8472, resolved by the caller. */
  readonly port: number;
  /** Underlay source address (this host's interface address, v4 or v6). */
  readonly local: string;
  /** The external (underlay) interface. */
  readonly underlay: string;
  readonly learning: boolean;
  readonly gbp: boolean;
  readonly mtu: number;
}

export interface VxlanDevice {
  readonly name: string;
  readonly index: number;
  readonly mac: string;
  /** True when this call created (or re-created) the device: its neigh/fdb/routes are gone. */
  readonly created: boolean;
  /** The device's addresses as found (empty when just created). */
  readonly addresses: readonly AddressInfo[];
}

export interface VxlanDeviceOptions extends KernelTarget {
  readonly log: Logger;
  /** For tests: the MAC a brand-new device gets. */
  readonly newMac?: (() => string) | undefined;
}

/** The identity fields that differ between the spec and an existing vxlan link, as `field: have → want`. */
export function vxlanMismatches(spec: VxlanDeviceSpec, data: Readonly<Record<string, unknown>>): string[] {
  const localText = typeof data.local === 'string' ? data.local : typeof data.local6 === 'string' ? data.local6 : '';
  const have = {
    vni: data.id,
    port: data.port,
    local: localText === '' ? '' : canonicalIp(localText),
    underlay: data.link ?? '',
    gbp: data.gbp === true,
  };
  const want = { vni: spec.vni, port: spec.port, local: canonicalIp(spec.local), underlay: spec.underlay, gbp: spec.gbp };
  return (Object.keys(want) as Array<keyof typeof want>)
    .filter((k) => have[k] !== want[k])
    .map((k) => `${k}: ${String(have[k])} → ${String(want[k])}`);
}

/** A random locally administered unicast MAC, as flannel gives a new VTEP. */
export function randomVtepMac(bytes: Buffer = randomBytes(6)): string {
  const b = [...bytes.subarray(0, 6)];
  b[0] = ((b[0] ?? 0) & 0xfe) | 0x02;
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}

export async function ensureVxlanDevice(spec: VxlanDeviceSpec, opts: VxlanDeviceOptions): Promise<VxlanDevice> {
  const link = await getLink(spec.name, opts);
  if (link !== undefined && link.kind !== 'vxlan') {
    throw new ConflictError(`${spec.name} exists but is a ${link.kind ?? 'plain'} device, not vxlan; tartan will not delete it`);
  }
  if (link !== undefined) {
    const mismatches = vxlanMismatches(spec, link.data);
    if (mismatches.length === 0) {
      await tuneInPlace(spec, link, opts);
      return { name: spec.name, index: link.index, mac: link.mac, created: false, addresses: link.addresses };
    }
    opts.log.warn({ device: spec.name, mismatches }, 're-creating the vxlan device because its identity changed (keeping its MAC)');
  }
  const mac = link?.mac ?? (opts.newMac ?? randomVtepMac)();
  const lines = [
    ...(link === undefined ? [] : [`link del dev ${spec.name}`]),
    createLine(spec, mac),
    `link set dev ${spec.name} mtu ${spec.mtu} up`,
  ];
  await runToolChecked('ip', ['-batch', '-'], { netns: opts.netns, input: lines.join('\n') + '\n' });
  const created = await getLink(spec.name, opts);
  if (created === undefined) throw new Error(`${spec.name} vanished right after it was created`);
  opts.log.info({ device: spec.name, mac: created.mac, index: created.index }, 'created the vxlan device');
  return { name: spec.name, index: created.index, mac: created.mac, created: true, addresses: created.addresses };
}

function createLine(spec: VxlanDeviceSpec, mac: string): string {
  return [
    `link add ${spec.name} address ${mac} type vxlan id ${spec.vni}`,
    `local ${spec.local} dev ${spec.underlay} dstport ${spec.port}`,
    spec.learning ? 'learning' : 'nolearning',
    ...(spec.gbp ? ['gbp'] : []),
  ].join(' ');
}

async function tuneInPlace(spec: VxlanDeviceSpec, link: LinkInfo, opts: VxlanDeviceOptions): Promise<void> {
  const lines: string[] = [];
  if ((link.data.learning === true) !== spec.learning) {
    lines.push(`link set dev ${spec.name} type vxlan ${spec.learning ? 'learning' : 'nolearning'}`);
  }
  if (link.mtu !== spec.mtu || !link.up) lines.push(`link set dev ${spec.name} mtu ${spec.mtu} up`);
  if (lines.length === 0) return;
  await runToolChecked('ip', ['-batch', '-'], { netns: opts.netns, input: lines.join('\n') + '\n' });
}
