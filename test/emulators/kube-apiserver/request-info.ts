// The apiserver's RequestInfo: which verb, group, version, namespace, resource,
// name and subresource a URL means; RBAC and the handlers both read it.

export interface ResourceRequest {
  readonly kind: 'resource';
  readonly verb: string;
  readonly group: string;
  readonly version: string;
  readonly namespace?: string;
  readonly resource: string;
  readonly name?: string;
  readonly subresource?: string;
}

export interface NonResourceRequest {
  readonly kind: 'nonresource';
  readonly verb: string;
  readonly path: string;
}

export type RequestInfo = ResourceRequest | NonResourceRequest;

// Only these follow `namespaces/<name>/` as subresources of the namespace itself.
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

export function requestInfo(method: string, url: URL): RequestInfo {
  const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const nonResource: NonResourceRequest = { kind: 'nonresource', verb: method.toLowerCase(), path: url.pathname };
  let rest: string[];
  let group = '';
  let version: string;
  if (parts[0] === 'api' && parts.length >= 3) {
    version = parts[1]!;
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    group = parts[1]!;
    version = parts[2]!;
    rest = parts.slice(3);
  } else return nonResource;
  let legacyWatch = false;
  if (rest[0] === 'watch') {
    legacyWatch = true;
    rest = rest.slice(1);
  }
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length > 1) {
    namespace = rest[1];
    if (rest.length > 2 && !NAMESPACE_SUBRESOURCES.has(rest[2]!)) rest = rest.slice(2);
  }
  const [resource, name, subresource] = rest;
  if (!resource) return nonResource;
  const watching = legacyWatch || ['true', '1'].includes(url.searchParams.get('watch') ?? '');
  return {
    kind: 'resource', verb: verbOf(method, name !== undefined, watching), group, version, resource,
    // As the apiserver, `namespaces/<n>` carries namespace n too (RBAC looks there).
    ...(namespace !== undefined ? { namespace } : {}),
    ...(name !== undefined ? { name } : {}),
    ...(subresource !== undefined ? { subresource } : {}),
  };
}

function verbOf(method: string, named: boolean, watching: boolean): string {
  switch (method) {
    case 'GET': case 'HEAD': return watching ? 'watch' : named ? 'get' : 'list';
    case 'POST': return 'create';
    case 'PUT': return 'update';
    case 'PATCH': return 'patch';
    case 'DELETE': return named ? 'delete' : 'deletecollection';
    default: return method.toLowerCase();
  }
}
