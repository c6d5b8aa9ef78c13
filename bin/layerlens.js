#!/usr/bin/env node
import { boundOldGeneration, capYoungGeneration } from '../dist/cli/heap.js';
import { main } from '../dist/cli/main.js';

capYoungGeneration();
boundOldGeneration();
main(process.argv).then((code) => {
  process.exitCode = code;
});
