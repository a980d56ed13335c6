// Cross-flag rule of `tartan agent`: the lease renew margin against the lease TTL.
// A margin at or above the TTL renews at once, forever (a TTL of 30m with the
// 60-minute default made 2,043 etcd revisions in 10 s). The margin may be at most
// half the TTL; left at its default it shrinks to half a short TTL.
import { InvalidInputError } from '../errors.ts';
import { formatDuration } from './duration.ts';

export const DEFAULT_RENEW_MARGIN_MINUTES = 60;

export interface LeaseTimingFlags {
  readonly ttlMs: number;
  readonly marginMinutes: number;
  /** Whether --subnet-lease-renew-margin was given (flag or env), or is the default. */
  readonly marginGiven: boolean;
}

/** The renew margin in milliseconds: at most TTL/2, else InvalidInputError naming both flags and values. */
export function renewMarginMs(flags: LeaseTimingFlags): number {
  const halfTtl = flags.ttlMs / 2;
  const margin = flags.marginMinutes * 60_000;
  if (margin <= halfTtl) return margin;
  if (!flags.marginGiven) return halfTtl;
  throw new InvalidInputError('--subnet-lease-renew-margin', flags.marginMinutes,
    `must be at most half of --subnet-lease-ttl ${formatDuration(flags.ttlMs)} (${formatDuration(halfTtl)}), or the lease is renewed over and over`);
}
