// Value checks a flag table attaches to a flag (`check`): each returns the problem
// in words, or undefined when the value is fine. They run while the flags are
// parsed, before any side effect, so a bad value exits 2 naming the flag and value.
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, resolve } from 'node:path';

export type Check = (value: string) => string | undefined;

/** An etcd endpoint: http(s)://host:port with a port tartan can dial. */
export const endpointUrl: Check = (value) => {
  const port = /^[a-z]+:\/\/(?:[^@/]*@)?(?:\[[^\]]*\]|[^:/]*):(\d+)/i.exec(value)?.[1];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) return 'port must be between 1 and 65535';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be a URL like http://host:2379';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must start with http:// or https://';
  if (url.hostname === '') return 'needs a host';
  if (url.port === '0') return 'port must be between 1 and 65535';
  if (url.pathname !== '/' && url.pathname !== '') return 'must not have a path';
  return undefined;
};

export const ipAddress: Check = (value) => (isIP(value) === 0 ? 'must be an IPv4 or IPv6 address' : undefined);

/** A shell variable name, as the left side of NAME=value in a file sourced by a shell. */
export const shellVariableName: Check = (value) =>
  /^[A-Za-z_][A-Za-z0-9_]*$/.test(value) ? undefined : 'must be a shell variable name (letters, digits, _; not starting with a digit)';

/** Kernel pseudo file systems: writing there never does what was meant (and may never finish). */
const PSEUDO_FS = ['/proc', '/sys'];

/** A file tartan reads or writes whole: not a directory, not in /proc or /sys (symlinks followed). */
export const regularFilePath: Check = (value) => {
  const path = resolve(value);
  const real = realPathOfExisting(path);
  if (PSEUDO_FS.some((root) => real === root || real.startsWith(`${root}/`))) return `must not be under ${PSEUDO_FS.join(' or ')}`;
  try {
    if (statSync(path).isDirectory()) return 'is a directory; give a file path';
  } catch {
    // Does not exist yet: the agent creates it.
  }
  return undefined;
};

/** The real path of `path`, or of its nearest existing ancestor with the rest appended. */
function realPathOfExisting(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    const parent = dirname(path);
    if (parent === path) return path;
    return `${realPathOfExisting(parent)}/${path.slice(parent.length).replace(/^\//, '')}`;
  }
}

/** A PEM file holding at least one block of `label` (CERTIFICATE, PRIVATE KEY). */
export function pemFile(label: 'CERTIFICATE' | 'PRIVATE KEY'): Check {
  return (value) => {
    let text: string;
    try {
      if (statSync(value).isDirectory()) return 'is a directory; give a PEM file';
      text = readFileSync(value, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? 'error'})`;
    }
    return new RegExp(`-----BEGIN [A-Z ]*${label}-----`).test(text) ? undefined : `is not a PEM file with a ${label} block`;
  };
}
