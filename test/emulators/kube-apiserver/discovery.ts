// Discovery as kubectl reads it: /api, /apis, /apis/<g>, the per-version
// APIResourceLists, /version. Aggregated discovery (apidiscovery.k8s.io/v2) is
// not offered; kubectl falls back to these legacy documents on plain JSON.
import { apiVersionOf, groupVersions, RESOURCE_VERBS, RESOURCES } from './resources.ts';
import type { Json, JsonObject } from './status.ts';

export const SERVER_VERSION = { major: '1', minor: '33', gitVersion: 'v1.33.0', gitCommit: '0000000000000000000000000000000000000000', gitTreeState: 'clean', buildDate: '2026-01-01T00:00:00Z', goVersion: 'go1.24.4', compiler: 'gc', platform: 'linux/amd64' } as const;

function resourceList(groupVersion: string): JsonObject {
  const resources: Json[] = [];
  for (const r of RESOURCES.filter((x) => apiVersionOf(x) === groupVersion)) {
    resources.push({
      name: r.resource, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: [...RESOURCE_VERBS],
      ...(r.shortNames ? { shortNames: [...r.shortNames] } : {}), ...(r.categories ? { categories: [...r.categories] } : {}),
    });
    if (r.hasStatus) resources.push({ name: `${r.resource}/status`, singularName: '', namespaced: r.namespaced, kind: r.kind, verbs: ['get', 'patch', 'update'] });
  }
  return groupVersion === 'v1'
    ? { kind: 'APIResourceList', groupVersion, resources }
    : { kind: 'APIResourceList', apiVersion: 'v1', groupVersion, resources };
}

function group(name: string, version: string): JsonObject {
  const gv = { groupVersion: `${name}/${version}`, version };
  return { name, versions: [gv], preferredVersion: gv };
}

/** The discovery document at `path`, or undefined when the path is not one. */
export function discoveryDocument(path: string, serverAddress: string): Json | undefined {
  const clean = path.replace(/\/+$/, '') || '/';
  if (clean === '/version') return { ...SERVER_VERSION };
  if (clean === '/api') return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
  if (clean === '/api/v1') return resourceList('v1');
  if (clean === '/apis') return { kind: 'APIGroupList', apiVersion: 'v1', groups: groupVersions().map((g) => group(g.group, g.version)) };
  const m = /^\/apis\/([^/]+)(?:\/([^/]+))?$/.exec(clean);
  const known = m ? groupVersions().find((g) => g.group === m[1]) : undefined;
  if (!m || !known) return undefined;
  if (!m[2]) return { kind: 'APIGroup', apiVersion: 'v1', ...group(known.group, known.version) };
  return m[2] === known.version ? resourceList(`${known.group}/${known.version}`) : undefined;
}

/** /healthz, /livez, /readyz answer `ok` as text. */
export const isHealthPath = (path: string): boolean => /^\/(healthz|livez|readyz)(\/.*)?$/.test(path);
