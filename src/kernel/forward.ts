// Forward rules (`--iptables-forward-rules`, flannel's flag and meaning): accept
// forwarded traffic whose source or destination is inside the cluster Network.
//
// Why iptables and not tartan's nftables table: Docker sets the filter FORWARD
// policy to DROP, through the `iptables` binary (on Debian 12 that is iptables-nft:
// nftables `table ip filter`, "managed by iptables-nft, do not touch"). In nftables an
// accept in one base chain does not stop another base chain on the same hook from
// dropping, so the accept has to sit in the chain that drops. Going through
// `iptables-restore` too puts it wherever Docker's rules are, nft or legacy backend.
//
// The design is flannel's: a chain of our own (TARTAN-FWD) holding
// `-s <Network> -j ACCEPT` and `-d <Network> -j ACCEPT`, one jump to it from FORWARD,
// both with the comment "tartan forward"; IPv4 through iptables, IPv6 through
// ip6tables, for each configured Network and nothing else. Observe (iptables-save)
// → plan (pure, below) → act (one `iptables-restore --noflush` transaction), so a
// resync that finds everything right changes nothing, and a damaged chain is
// rewritten whole (a chain declared in --noflush input is flushed first) without
// a duplicate. The jump goes right after Docker's DOCKER-USER jump when there is
// one (the operator's own rules still come first), else first in FORWARD; an
// existing jump is left where it is (Docker moves its own rules to the top when it
// restarts; chasing that would rewrite FORWARD on every resync).
import { execFile } from 'node:child_process';
import type { Cidr } from '../net/cidr.ts';
import { errorMessage } from '../errors.ts';
import type { Logger } from '../observe/log.ts';
import { type Clock, realClock } from '../util/time.ts';
import { type KernelTarget, KernelCommandError } from './exec.ts';
import { prefixText } from './objects.ts';

export const FORWARD_CHAIN = 'TARTAN-FWD';
export const FORWARD_COMMENT = 'tartan forward';

/** The cluster Network of each family the forward rules should accept; an absent family has none. */
export interface ForwardSpec {
  readonly ipv4?: Cidr | undefined;
  readonly ipv6?: Cidr | undefined;
}

/** The parts of one family's filter table the plan reads (from `iptables-save -t filter`). */
export interface ObservedFilter {
  /** FORWARD's rules in order, as iptables-save prints them (`-A FORWARD …`). */
  readonly forward: readonly string[];
  /** TARTAN-FWD's rules, or undefined when the chain does not exist. */
  readonly chain: readonly string[] | undefined;
}

const MARK = `-m comment --comment "${FORWARD_COMMENT}"`;
const JUMP_SPEC = `${MARK} -j ${FORWARD_CHAIN}`;
const JUMP_RULE = `-A FORWARD ${JUMP_SPEC}`;
const DOCKER_USER_JUMP = '-A FORWARD -j DOCKER-USER';

/** TARTAN-FWD's rules for a Network, exactly as iptables-save prints them back. */
export function chainRules(network: Cidr): string[] {
  const net = prefixText(network);
  return [`-A ${FORWARD_CHAIN} -s ${net} ${MARK} -j ACCEPT`, `-A ${FORWARD_CHAIN} -d ${net} ${MARK} -j ACCEPT`];
}

/** Reads FORWARD and TARTAN-FWD out of `iptables-save -t filter` output. */
export function parseFilterSave(text: string): ObservedFilter {
  const lines = text.split('\n').map((l) => l.trim());
  const hasChain = lines.some((l) => l.startsWith(`:${FORWARD_CHAIN} `));
  return {
    forward: lines.filter((l) => l.startsWith('-A FORWARD ')),
    chain: hasChain ? lines.filter((l) => l.startsWith(`-A ${FORWARD_CHAIN} `)) : undefined,
  };
}

/**
 * The `iptables-restore --noflush` lines (inside `*filter` … `COMMIT`) that take one
 * family from `observed` to `network`'s rules, or, with no network, remove tartan's
 * jump and chain. Empty when nothing needs to change.
 */
export function planForwardRules(network: Cidr | undefined, observed: ObservedFilter): string[] {
  const jumps = observed.forward.filter((r) => r === JUMP_RULE).length;
  if (network === undefined) {
    const lines: string[] = Array.from({ length: jumps }, () => `-D FORWARD ${JUMP_SPEC}`);
    if (observed.chain !== undefined) lines.push(`:${FORWARD_CHAIN} - [0:0]`, `-X ${FORWARD_CHAIN}`);
    return lines;
  }
  const want = chainRules(network);
  const lines: string[] = [];
  const chainRight = observed.chain !== undefined && observed.chain.length === want.length && observed.chain.every((r, i) => r === want[i]);
  if (!chainRight) lines.push(`:${FORWARD_CHAIN} - [0:0]`, ...want);
  if (jumps !== 1) {
    // None, or several (-D removes the first match, which may be the one to keep): all
    // of them go and one comes back in its place, in the same transaction.
    for (let j = 0; j < jumps; j++) lines.push(`-D FORWARD ${JUMP_SPEC}`);
    const dockerUser = observed.forward.filter((r) => r !== JUMP_RULE).indexOf(DOCKER_USER_JUMP);
    lines.push(`-I FORWARD ${dockerUser + 2} ${JUMP_SPEC}`); // iptables counts from 1: after DOCKER-USER, or first
  }
  return lines;
}

export interface ForwardTarget extends KernelTarget {
  readonly signal?: AbortSignal | undefined;
}

const FAMILIES = [
  { key: 'ipv4', save: 'iptables-save', restore: 'iptables-restore' },
  { key: 'ipv6', save: 'ip6tables-save', restore: 'ip6tables-restore' },
] as const;

/**
 * Makes the forward rules what `spec` says, in both families (a family left out of
 * `spec` loses tartan's rules). Resolves with the number of restore lines applied: 0
 * when everything was already right.
 */
export async function applyForwardRules(spec: ForwardSpec, target: ForwardTarget = {}): Promise<number> {
  let applied = 0;
  for (const f of FAMILIES) {
    const observed = parseFilterSave(await xtables(f.save, ['-t', 'filter'], target));
    const lines = planForwardRules(spec[f.key], observed);
    if (lines.length === 0) continue;
    await xtables(f.restore, ['-w', '5', '--noflush'], { ...target, input: ['*filter', ...lines, 'COMMIT', ''].join('\n') });
    applied += lines.length;
  }
  return applied;
}

/** Removes tartan's jump and chain in both families and nothing else; a no-op when they (or iptables) are not there. */
export async function removeForwardRules(target: ForwardTarget = {}): Promise<number> {
  try {
    return await applyForwardRules({}, target);
  } catch (err) {
    if (err instanceof KernelCommandError && err.code === TOOL_MISSING) return 0;
    throw err;
  }
}

export interface HostForwardOptions extends ForwardTarget {
  /** --iptables-forward-rules */
  readonly enabled: boolean;
  readonly spec: ForwardSpec;
  /** How often the rules are read back and repaired (the agent's --resync-period). */
  readonly resyncMs: number;
  readonly log: Logger;
  readonly signal: AbortSignal;
  readonly clock?: Clock | undefined;
}

/**
 * The agent's forward rules. Enabled: applied now (a failure reaches the caller, so
 * the agent does not start half-configured), then read back every `resyncMs` and
 * repaired until `signal` aborts. Disabled: tartan's rules are removed. Stopping the
 * agent leaves them in place, as flannel does and as tartan leaves its routes: a
 * restart must not cut cross-host container traffic on a host whose FORWARD drops.
 */
export async function setForwardRules(o: HostForwardOptions): Promise<void> {
  if (!o.enabled) {
    const removed = await removeForwardRules(o);
    if (removed > 0) o.log.info({ chain: FORWARD_CHAIN }, 'iptables forward rules removed (--iptables-forward-rules=false)');
    return;
  }
  await applyForwardRules(o.spec, o);
  void keepForwardRules(o);
}

async function keepForwardRules(o: HostForwardOptions): Promise<void> {
  const clock = o.clock ?? realClock;
  for (;;) {
    try {
      await clock.sleep(o.resyncMs, o.signal);
      const applied = await applyForwardRules(o.spec, o);
      if (applied > 0) o.log.warn({ chain: FORWARD_CHAIN, lines: applied }, 'iptables forward rules were missing or changed; restored');
    } catch (err) {
      if (o.signal.aborted) return;
      o.log.error({ err: errorMessage(err) }, 'iptables forward rules could not be checked; will retry at the next resync');
    }
  }
}

/** KernelCommandError.code when the iptables tool itself is not installed. */
export const TOOL_MISSING = -1;

type XtablesTool = (typeof FAMILIES)[number]['save' | 'restore'];

/** Runs an iptables tool (inside `netns` through `ip netns exec`); rejects with KernelCommandError. */
function xtables(tool: XtablesTool, args: readonly string[], o: ForwardTarget & { input?: string }): Promise<string> {
  const [file, argv] = o.netns === undefined ? [tool, [...args]] : ['ip', ['netns', 'exec', o.netns, tool, ...args]];
  return new Promise((resolve, reject) => {
    const child = execFile(file, argv, { signal: o.signal, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err === null) {
        resolve(stdout);
        return;
      }
      // ENOENT directly, or `ip netns exec` saying it could not exec the tool (exit 255).
      const missing = err.code === 'ENOENT' || /exec of "[^"]+" failed: No such file/.test(stderr);
      const code = missing ? TOOL_MISSING : typeof err.code === 'number' ? err.code : 1;
      const hint = missing ? ' (is the iptables package installed? --iptables-forward-rules needs it)' : '';
      reject(new KernelCommandError(`${file} ${argv.join(' ')}`, code, `${stderr.trim() || err.message}${hint}`, { cause: err }));
    });
    child.stdin?.on('error', () => { /* the exit status tells */ });
    child.stdin?.end(o.input ?? '');
  });
}
