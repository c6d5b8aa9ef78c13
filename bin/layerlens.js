#!/usr/bin/env node
import { keepYoungGenerationSmall } from '../dist/cli/heap.js';
import { main } from '../dist/cli/main.js';

keepYoungGenerationSmall();
main(process.argv).then((code) => {
  process.exitCode = code;
});
