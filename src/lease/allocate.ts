// Subnet choice, pure: flannel's scan from SubnetMin collecting up to 100 free
// subnets and picking one at random (so racing hosts rarely collide).
import type { SubnetPool } from '../config/network.ts';
import { type Cidr, contains, networkAddr, overlaps, size } from '../net/cidr.ts';

export const MAX_CANDIDATES = 100;

export function pickFreeSubnet(
  pool: SubnetPool,
  taken: readonly Cidr[],
  random: () => number = Math.random,
  maxCandidates = MAX_CANDIDATES,
): Cidr | undefined {
  const candidates = freeSubnets(pool, taken, maxCandidates);
  if (candidates.length === 0) return undefined;
  return candidates[Math.min(candidates.length - 1, Math.floor(random() * candidates.length))];
}

export function freeSubnets(pool: SubnetPool, taken: readonly Cidr[], limit: number): Cidr[] {
  const step = size({ family: pool.family, prefix: pool.subnetLen });
  const sameFamily = taken.filter((t) => t.family === pool.family).sort((a, b) => (a.addr < b.addr ? -1 : a.addr > b.addr ? 1 : 0));
  const out: Cidr[] = [];
  let i = 0;
  for (let addr = pool.subnetMin.addr; addr <= pool.subnetMax.addr && out.length < limit; addr += step) {
    const candidate: Cidr = { family: pool.family, addr, prefix: pool.subnetLen };
    // taken is sorted: skip what lies wholly below the candidate, then test overlap.
    while (i < sameFamily.length && lastOf(sameFamily[i]!) < addr) i++;
    let clash = false;
    for (let j = i; j < sameFamily.length && networkAddr(sameFamily[j]!) <= addr + step - 1n; j++) {
      if (overlaps(sameFamily[j]!, candidate)) { clash = true; break; }
    }
    if (!clash) out.push(candidate);
  }
  return out;
}

/** True when a lease subnet still fits the pool: right size, inside [SubnetMin, SubnetMax]. */
export function fitsPool(pool: SubnetPool, subnet: Cidr): boolean {
  return (
    subnet.family === pool.family &&
    subnet.prefix === pool.subnetLen &&
    contains(pool.network, subnet) &&
    subnet.addr >= pool.subnetMin.addr &&
    subnet.addr <= pool.subnetMax.addr
  );
}

function lastOf(c: Cidr): bigint {
  return networkAddr(c) + size(c) - 1n;
}
