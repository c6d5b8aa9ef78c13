#!/usr/bin/env node
// The command line (src/cli/prelude.ts, then src/cli/run.ts), bundled by the build: Node 20 loads
// one module instead of the 35 to 60 a command's code is made of (`images` 0.22 -> 0.19 s), and a
// command that reads layers starts its reading threads before that module is parsed.
import '../dist/bundle/prelude.js';

await import('../dist/bundle/run.js');
