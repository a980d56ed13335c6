// `npm run build`: the deployable CLI in dist/, one ES module per command and per
// cloud (esbuild with code splitting), so a process still loads only the command
// and the SDK it runs. Bundling matters for memory: the AWS SDK loaded from
// node_modules makes a controller ~35 MB larger than the same SDK bundled, which
// keeps only the EC2 operations tartan calls (controller-memory bench).
//
// Packages that read their own files at run time (etcd3's and Google's .proto
// files, Alibaba's SDK) or start workers (pino) stay external: they load from
// node_modules, which deploy/image ships beside dist/.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build as esbuild } from 'esbuild';

export const EXTERNAL = ['etcd3', '@grpc/*', '@google-cloud/*', 'google-gax', 'google-auth-library', '@alicloud/*', 'pino'];

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Builds the CLI into `outDir` (emptied first); its entry is `<outDir>/main.js`. */
export async function buildCli(outDir: string): Promise<string> {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  await esbuild({
    absWorkingDir: ROOT,
    entryPoints: { main: 'src/cli/main.ts' },
    outdir: outDir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node24',
    // The SDKs ship CommonJS and ES module builds; the ES ones tree-shake.
    mainFields: ['module', 'main'],
    external: EXTERNAL,
    // Bundled CommonJS code calls require() for Node's built-in modules.
    banner: { js: "import { createRequire as __tartanRequire } from 'node:module'; const require = __tartanRequire(import.meta.url);" },
    sourcemap: 'linked',
    legalComments: 'linked',
    logLevel: 'warning',
  });
  writeFileSync(join(outDir, 'package.json'), '{ "type": "module" }\n');
  return join(outDir, 'main.js');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const entry = await buildCli(join(ROOT, 'dist'));
  console.log(`built ${entry}`);
}
