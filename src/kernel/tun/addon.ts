// Loads tartan's TUN addon (src/kernel/tun/tun.c, built by node-gyp at `npm ci`
// into build/Release/tartan_tun.node). The build is optional: on a machine without
// a C compiler the install still succeeds and only the udp backend is unavailable,
// so loading never throws — it reports what is missing instead.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** An open TUN device (opaque to JavaScript). */
export interface TunHandle {
  readonly __tun: unique symbol;
}

export interface TunAddon {
  /** Opens /dev/net/tun and attaches to (or creates) `name` with IFF_TUN | IFF_NO_PI, non-blocking. */
  open(name: string): { handle: TunHandle; name: string };
  /**
   * Starts reading: on readiness the addon reads until EAGAIN (at most lengths.length
   * packets, packet i at slab[i * slot]) and calls `onBatch(count)` once; a negative
   * count is a libuv error code.
   */
  poll(handle: TunHandle, slab: Buffer, lengths: Int32Array, slot: number, onBatch: (count: number) => void): void;
  /** One packet per call: bytes written, or −errno. */
  write(handle: TunHandle, buf: Uint8Array, offset: number, length: number): number;
  /** Stops the poll and closes the fd; the (non-persistent) device disappears. */
  close(handle: TunHandle): void;
}

const FILE = 'build/Release/tartan_tun.node';

/** Where the addon may be: TARTAN_TUN_ADDON alone when set, else the checkout's build/ seen from src/kernel/tun or from dist/. */
export function addonCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  if (env.TARTAN_TUN_ADDON) return [env.TARTAN_TUN_ADDON];
  return [`../../../${FILE}`, `../${FILE}`].map((rel) => fileURLToPath(new URL(rel, import.meta.url)));
}

export type AddonLoad = { readonly addon: TunAddon } | { readonly missing: string };

let loaded: AddonLoad | undefined;

/** The addon, or why it is not there (the paths tried and the load error). */
export function loadTunAddon(): AddonLoad {
  if (loaded) return loaded;
  const candidates = addonCandidates();
  const path = candidates.find((p) => existsSync(p));
  if (path === undefined) {
    loaded = { missing: `tartan's TUN addon, which was not built (looked for ${candidates.join(', ')}); install a C compiler, make and python3, then run \`npm rebuild\` in the tartan checkout` };
    return loaded;
  }
  try {
    loaded = { addon: createRequire(import.meta.url)(path) as TunAddon };
  } catch (err) {
    loaded = { missing: `tartan's TUN addon ${path} does not load (${(err as Error).message}); rebuild it with \`npm rebuild\`` };
  }
  return loaded;
}
