// The CNI spec versions tartan's plugin speaks: those of flannel's plugin from 0.3.0 on
// (flannel-io/cni-plugin answers containernetworking/cni version.All).
import { CniCode, CniError } from './errors.ts';

export const SUPPORTED_VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;
export const CURRENT_VERSION = '1.1.0';

/** The VERSION answer. */
export function versionJson(): string {
  return JSON.stringify({ cniVersion: CURRENT_VERSION, supportedVersions: SUPPORTED_VERSIONS });
}

/** -1, 0 or 1 as `a` is before, equal to or after `b` ("0.3.1" < "0.4.0" < "1.0.0"). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

export function checkSupported(version: string): void {
  if (!(SUPPORTED_VERSIONS as readonly string[]).includes(version)) {
    throw new CniError(CniCode.incompatibleVersion,
      `network config: cniVersion: ${JSON.stringify(version)} is not supported (supported: ${SUPPORTED_VERSIONS.join(', ')})`);
  }
}

/** CHECK needs a config of 0.4.0 or later, STATUS and GC 1.1.0 (as libcni's skel enforces). */
export function requireAtLeast(version: string, minimum: string, command: string): void {
  if (compareVersions(version, minimum) < 0) {
    throw new CniError(CniCode.incompatibleVersion,
      `network config: cniVersion ${JSON.stringify(version)} does not allow ${command} (needs ${minimum} or later)`);
  }
}
