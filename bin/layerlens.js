#!/usr/bin/env node
import { capYoungGeneration } from '../dist/cli/heap.js';
import { main } from '../dist/cli/main.js';

capYoungGeneration();
main(process.argv).then((code) => {
  process.exitCode = code;
});
