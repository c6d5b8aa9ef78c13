#!/usr/bin/env node
// The command line (src/cli/prelude.ts, then src/cli/run.ts), bundled by the build: Node 20 loads
// one module instead of the 35 to 60 a command's code is made of (`images` 0.22 -> 0.19 s), and a
// command that reads layers starts its reading threads before that module is parsed.
import { fileURLToPath } from 'node:url';

const bundle = new URL('../dist/bundle/', import.meta.url);
try {
  await import(new URL('prelude.js', bundle).href);
} catch (e) {
  // A clone that was never built (or built by tsc alone): say so in one line, not a stack trace.
  if (e?.code !== 'ERR_MODULE_NOT_FOUND' || !String(e.message).includes(fileURLToPath(bundle))) throw e;
  process.stderr.write('layerlens: error: the command line is not built: run `npm run build`\n');
  process.exit(2);
}
await import(new URL('run.js', bundle).href);
