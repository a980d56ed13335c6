// `node test/emulators/kube-apiserver --port N` resolves a directory to index.js; the emulator is TypeScript.
import './main.ts';
