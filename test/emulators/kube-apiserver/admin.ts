// Test controls, in process (KubeAdmin) and over HTTP under /_admin/ for the
// standalone emulator. Admin calls need no token, skip faults and the call log.
import type { TokenAuthenticator, UserInfo } from './auth.ts';
import type { FaultRequest, Faults } from './faults.ts';
import type { ObjectStore } from './store.ts';
import { type Json, type JsonObject, str } from './status.ts';
import type { WatchHub } from './watch.ts';

export interface CallRecord {
  readonly method: string;
  /** Path and query as sent. */
  readonly path: string;
  readonly user: string;
  /** HTTP status answered (a watch: 200 once its headers went out). */
  readonly status: number;
}

export interface KubeAdmin {
  /** Registers a bearer token for a user (system:authenticated is added). */
  addToken(token: string, user: UserInfo): void;
  /** A new token for system:serviceaccount:<namespace>:<name>. */
  serviceAccountToken(namespace: string, name: string): string;
  injectFaults(f: FaultRequest): void;
  /** Ends every open watch stream; answers how many there were. */
  dropWatches(): number;
  readonly openWatches: number;
  /** Compacts etcd history up to now (or `revision`); answers the revision compacted to. */
  compact(revision?: number): Promise<number>;
  calls(): readonly CallRecord[];
  clearCalls(): void;
  /** Clears faults and the call log (stored objects stay: they live in etcd). */
  reset(): void;
}

export interface AdminState {
  readonly auth: TokenAuthenticator;
  readonly faults: Faults;
  readonly hub: WatchHub;
  readonly store: ObjectStore;
  readonly calls: CallRecord[];
}

export function createAdmin(s: AdminState): KubeAdmin {
  return {
    addToken: (token, user) => s.auth.add(token, user),
    serviceAccountToken: (namespace, name) => s.auth.addServiceAccount(namespace, name),
    injectFaults: (f) => s.faults.add(f),
    dropWatches: () => s.hub.dropAll(),
    get openWatches() {
      return s.hub.size;
    },
    compact: (revision) => s.store.compact(revision),
    calls: () => [...s.calls],
    clearCalls: () => void (s.calls.length = 0),
    reset: () => {
      s.faults.reset();
      s.calls.length = 0;
    },
  };
}

/** Serves /_admin/*: answers the JSON body to send (200), or throws for a 400. */
export async function handleAdmin(admin: KubeAdmin, method: string, path: string, body: JsonObject): Promise<Json> {
  const key = `${method} ${path.replace(/^\/_admin/, '')}`;
  switch (key) {
    case 'POST /tokens': {
      const sa = body.serviceAccount as { namespace?: string; name?: string } | undefined;
      if (sa?.namespace && sa.name) return { token: admin.serviceAccountToken(sa.namespace, sa.name) };
      const groups = Array.isArray(body.groups) ? body.groups.map(String) : [];
      admin.addToken(str(body.token), { name: str(body.user), groups });
      return { token: str(body.token) };
    }
    case 'POST /faults': admin.injectFaults(body); return { ok: true };
    case 'POST /watches/drop': return { dropped: admin.dropWatches() };
    case 'POST /compact': return { revision: await admin.compact(typeof body.revision === 'number' ? body.revision : undefined) };
    case 'GET /calls': return { items: admin.calls().map((c) => ({ ...c })) };
    case 'DELETE /calls': admin.clearCalls(); return { ok: true };
    case 'POST /reset': admin.reset(); return { ok: true };
    default: throw new Error(`no admin endpoint ${method} ${path}`);
  }
}
