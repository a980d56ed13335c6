// The kube-apiserver emulator's public face: start it in process on a real etcd,
// drive it with the admin API. kubectl and @kubernetes/client-node talk to it unchanged.
export { startKubeApiserver, type KubeApiserver, type KubeApiserverOptions } from './server.ts';
export type { CallRecord, KubeAdmin } from './admin.ts';
export { serviceAccountUser, type UserInfo } from './auth.ts';
export type { FaultRequest } from './faults.ts';
export { kubeconfigText, writeKubeconfig, type KubeconfigOptions } from './kubeconfig.ts';
