// The entry of the plugin's single executable (scripts/build-cni.ts bundles it as CommonJS, so
// no top-level await): the runtime runs it with CNI_COMMAND set and the config on stdin.
import { writeSync } from 'node:fs';
import { runCniPlugin } from './main.ts';

runCniPlugin(process.env).then((code) => { process.exitCode = code; }, (err: unknown) => {
  writeSync(2, `tartan cni: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exitCode = 1;
});
