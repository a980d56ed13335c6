// Standalone emulator: `node test/emulators/kube-apiserver --port 6443
// --etcd http://127.0.0.1:2379 [--prefix /registry] [--admin-token T]
// [--token-auth-file F] [--kubeconfig PATH] [--bookmark-interval-ms N]`.
// Prints one JSON line {endpoint, port, kubeconfig, adminToken} when listening; stops on SIGTERM / SIGINT.
import { parseArgs } from 'node:util';
import { startKubeApiserver } from './server.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    etcd: { type: 'string', default: 'http://127.0.0.1:2379' },
    prefix: { type: 'string' },
    'admin-token': { type: 'string' },
    'token-auth-file': { type: 'string' },
    kubeconfig: { type: 'string' },
    'bookmark-interval-ms': { type: 'string' },
  },
});

const emulator = await startKubeApiserver({
  port: Number(values.port),
  etcdEndpoint: values.etcd,
  ...(values.prefix ? { prefix: values.prefix } : {}),
  ...(values['admin-token'] ? { adminToken: values['admin-token'] } : {}),
  ...(values['token-auth-file'] ? { tokenFile: values['token-auth-file'] } : {}),
  ...(values.kubeconfig ? { kubeconfigPath: values.kubeconfig } : {}),
  ...(values['bookmark-interval-ms'] ? { bookmarkIntervalMs: Number(values['bookmark-interval-ms']) } : {}),
});
process.stdout.write(`${JSON.stringify({ endpoint: emulator.endpoint, port: emulator.port, kubeconfig: emulator.kubeconfigPath, adminToken: emulator.adminToken })}\n`);

const stop = (): void => {
  void emulator.close().then(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
