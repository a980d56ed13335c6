// The CNI plugin (flannel's contract): config, delegate, result.
export { runCniPlugin } from './main.ts';
export { type PluginDeps, type PluginOutcome, runPlugin } from './plugin.ts';
export { type CniArgs, type CniCommand, parseCniEnv } from './env.ts';
export { buildDelegate } from './delegate.ts';
export { type NetConf, DEFAULT_DATA_DIR, parseNetConf } from './netconf.ts';
export { type FlannelEnv, DEFAULT_SUBNET_FILE, parseSubnetFile } from './subnet-file.ts';
export { SUPPORTED_VERSIONS, versionJson } from './version.ts';
