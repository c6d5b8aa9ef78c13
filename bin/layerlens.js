#!/usr/bin/env node
import { boundOldGeneration, capYoungGeneration, limitInlining } from '../dist/cli/heap.js';
import { main } from '../dist/cli/main.js';

capYoungGeneration();
boundOldGeneration();
limitInlining();
main(process.argv).then((code) => {
  process.exitCode = code;
});
