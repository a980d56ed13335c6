// `npx node test/emulators/alicloud --port N`: a directory run needs a .js entry.
import './main.ts';
