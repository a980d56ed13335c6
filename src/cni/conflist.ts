// A network config list as a runtime reads it from its CNI conf dir (libcni ConfListFromBytes):
// `{"name","cniVersion","plugins":[{"type":…},…]}`. `tartan install-cni` checks one before it
// replaces the installed file, so a bad ConfigMap never takes a node's pod networking down;
// flannel's must be among the plugins. Errors name the file and the key.
import { InvalidInputError } from '../errors.ts';
import { type JsonObject, isObject } from './netconf.ts';

export interface Conflist {
  readonly name: string;
  /** '' when the file has none (libcni then passes none to the plugins). */
  readonly cniVersion: string;
  /** In order: ADD runs them first to last, DEL last to first. */
  readonly plugins: readonly JsonObject[];
}

export function parseConflist(path: string, text: string): Conflist {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new InvalidInputError(path, text.slice(0, 80), `is not JSON (${(err as Error).message})`, { cause: err });
  }
  if (!isObject(raw)) throw new InvalidInputError(path, raw, 'must be a JSON object (a CNI network config list)');
  const name = raw['name'];
  if (typeof name !== 'string' || name === '') throw new InvalidInputError(`${path}: name`, name, 'must be a non-empty string');
  const cniVersion = raw['cniVersion'] ?? '';
  if (typeof cniVersion !== 'string') throw new InvalidInputError(`${path}: cniVersion`, cniVersion, 'must be a string');
  const plugins = raw['plugins'];
  if (!Array.isArray(plugins) || plugins.length === 0) {
    throw new InvalidInputError(`${path}: plugins`, plugins, 'must be a non-empty list of plugin configs (a single config is not a .conflist)');
  }
  plugins.forEach((p: unknown, i) => {
    if (!isObject(p)) throw new InvalidInputError(`${path}: plugins[${i}]`, p, 'must be an object');
    if (typeof p['type'] !== 'string' || p['type'] === '') throw new InvalidInputError(`${path}: plugins[${i}].type`, p['type'], 'must be a plugin name');
  });
  const list = plugins as JsonObject[];
  if (!list.some((p) => p['type'] === 'flannel')) {
    throw new InvalidInputError(`${path}: plugins`, list.map((p) => p['type']), 'has no plugin of type "flannel" (tartan\'s plugin is installed as flannel)');
  }
  return { name, cniVersion, plugins: list };
}
