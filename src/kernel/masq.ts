// ip-masq: flannel's masquerade and forward rules, for both families, in ONE
// nftables table of tartan's own (`table inet tartan`). The whole table is
// replaced in one `nft -f -` transaction — add (so delete cannot fail), delete,
// add with every chain and rule — so rules never vanish mid-update and tartan
// never edits anybody else's table. Removed only when ip-masq is switched off.
import type { Cidr } from '../net/cidr.ts';
import { type KernelTarget, runToolChecked } from './exec.ts';
import { prefixText } from './objects.ts';

export const MASQ_TABLE = 'tartan';

export interface MasqFamily {
  /** The cluster Network (FLANNEL_NETWORK). */
  readonly network: Cidr;
  /** This host's pod subnet (FLANNEL_SUBNET's network). */
  readonly subnet: Cidr;
}

export interface MasqSpec {
  readonly ipv4?: MasqFamily | undefined;
  readonly ipv6?: MasqFamily | undefined;
}

/** kube-proxy marks packets it wants masqueraded itself with this bit. */
const KUBE_PROXY_MARK = '0x00004000';

/** The nft script that (re)creates tartan's table. Pure: the same spec gives the same text. */
export function renderMasqRuleset(spec: MasqSpec): string {
  const nat: string[] = [`meta mark & ${KUBE_PROXY_MARK} == ${KUBE_PROXY_MARK} return`];
  const forward: string[] = [];
  for (const [fam, multicast] of [['ip', '224.0.0.0/4'], ['ip6', 'ff00::/8']] as const) {
    const f = fam === 'ip' ? spec.ipv4 : spec.ipv6;
    if (f === undefined) continue;
    const net = prefixText(f.network);
    const sub = prefixText(f.subnet);
    nat.push(
      // pod → cluster and cluster → pod: not NATed, pods see each other's addresses.
      `${fam} saddr ${sub} ${fam} daddr ${net} return`,
      `${fam} saddr ${net} ${fam} daddr ${sub} return`,
      // outside → this host's pods (e.g. NodePort traffic that kube-proxy did not mark).
      `${fam} saddr != ${net} ${fam} daddr ${sub} return`,
      // pods → the world (but not multicast): the host's address.
      `${fam} saddr ${net} ${fam} daddr != ${multicast} masquerade fully-random`,
      // the host itself → remote pods: the vxlan device's address, which peers route back.
      `${fam} saddr != ${net} ${fam} daddr ${net} masquerade fully-random`,
    );
    forward.push(`${fam} saddr ${net} accept`, `${fam} daddr ${net} accept`);
  }
  return [
    `add table inet ${MASQ_TABLE}`,
    `delete table inet ${MASQ_TABLE}`,
    `table inet ${MASQ_TABLE} {`,
    '\tchain postrouting {',
    '\t\ttype nat hook postrouting priority srcnat; policy accept;',
    ...nat.map((r) => `\t\t${r}`),
    '\t}',
    '\tchain forward {',
    '\t\ttype filter hook forward priority filter; policy accept;',
    ...forward.map((r) => `\t\t${r}`),
    '\t}',
    '}',
    '',
  ].join('\n');
}

/** Installs or replaces the rules atomically. */
export async function applyMasquerade(spec: MasqSpec, target: KernelTarget & { signal?: AbortSignal | undefined } = {}): Promise<void> {
  await runToolChecked('nft', ['-f', '-'], { ...target, input: renderMasqRuleset(spec) });
}

/** Removes tartan's table (and nothing else); a no-op when it is not there. */
export async function removeMasquerade(target: KernelTarget & { signal?: AbortSignal | undefined } = {}): Promise<void> {
  await runToolChecked('nft', ['-f', '-'], { ...target, input: `add table inet ${MASQ_TABLE}\ndelete table inet ${MASQ_TABLE}\n` });
}
