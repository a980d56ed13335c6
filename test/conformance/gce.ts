// The GCE conformance harness: the compute v1 emulator (operations settle in
// milliseconds; the documented rate limits stay on) with three instances, and the
// real provider pointed at it. `actions` reads the API methods the emulator answered.
import { createGceProvider } from '../../providers/gce/index.ts';
import { startGceEmulator } from '../emulators/gce/index.ts';
import type { RecordingHarness } from './route-table.ts';

const ZONE = 'us-central1-a';

export const GCE_GAPS = {
  'replace changes the next hop in place': 'GCE routes cannot be changed in place: the controller deletes and creates',
  'batch writes create and delete many routes': 'compute has no batch route insert: routes.insert writes one route',
} as const;

export async function gceHarness(): Promise<RecordingHarness> {
  const emu = await startGceEmulator({ token: 'conformance-token', operationTiming: { pendingMs: 5, runningMs: 10 } });
  const hosts = [1, 2, 3].map((i) => ({
    host: { publicIp: `10.128.0.${i + 1}` },
    nextHop: { kind: 'instance' as const, id: `zones/${ZONE}/instances/node-${i}` },
  }));
  for (const [i, { host }] of hosts.entries()) emu.admin.addInstance({ zone: ZONE, name: `node-${i + 1}`, networkIP: host.publicIp });
  const provider = createGceProvider({
    project: emu.project,
    network: 'tartan-net',
    endpoint: emu.endpoint,
    accessToken: 'conformance-token',
    clusterName: 'conformance',
    clusterNetworks: ['10.244.0.0/16'],
    // Throttled calls wait for the next quota window; a short window keeps the case fast.
    rateLimits: { windowMs: 200 },
    retry: { baseMs: 10, maxMs: 200 },
  });
  let foreign = 0;
  return {
    provider,
    table: 'tartan-net',
    clusterNetwork: '10.244.0.0/16',
    hosts,
    outsideHost: { publicIp: '172.16.0.9' },
    absentNextHop: { kind: 'instance', id: `zones/${ZONE}/instances/nobody` },
    setQuota: async (q) => emu.admin.setQuota(q),
    seedForeignRoute: async (destination, hop) =>
      emu.admin.addRoute({ name: `someone-else-${++foreign}`, destRange: destination, nextHopInstance: hop.id, description: 'not tartan' }),
    setPageSize: async (n) => emu.admin.setPageSizeCap(n),
    injectFaults: async ({ throttle = 0, serverErrors = 0 }) => emu.admin.injectFaults({ throttle, serverErrors, serverErrorStatus: 503 }),
    actions: async () => emu.admin.calls().map((c) => c.id ?? `${c.method} ${c.path}`),
    close: async () => {
      await provider.close();
      await emu.close();
    },
  };
}
