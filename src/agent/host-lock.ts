// One agent per host: a lock file beside the subnet file, created with O_EXCL and
// holding the owner's PID. A lock whose PID is not alive (or is our own: a restart
// in a fresh PID namespace) is stale and taken over. Two agents on one host would
// otherwise race on flannel.1 ("RTNETLINK answers: File exists") or share one lease.
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { InvalidInputError } from '../errors.ts';

export interface HostLock {
  readonly path: string;
  release(): void;
}

/** Takes `<subnetFile>.lock`; throws InvalidInputError (exit 2) naming the holder's PID when another live agent has it. */
export function takeHostLock(subnetFile: string, pid = process.pid): HostLock {
  const path = `${subnetFile}.lock`;
  mkdirSync(dirname(path), { recursive: true });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o644);
      writeSync(fd, `${pid}\n`);
      closeSync(fd);
      return { path, release: () => releaseIfOurs(path, pid) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = readHolder(path);
    if (holder !== undefined && holder !== pid && isAlive(holder)) {
      throw new InvalidInputError('--subnet-file', subnetFile, `another tartan agent (PID ${holder}) runs on this host: it holds ${path}`);
    }
    unlinkQuietly(path); // stale: its agent is gone
  }
  throw new InvalidInputError('--subnet-file', subnetFile, `could not take ${path}: another agent keeps recreating it`);
}

function readHolder(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function releaseIfOurs(path: string, pid: number): void {
  if (readHolder(path) === pid) unlinkQuietly(path);
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
