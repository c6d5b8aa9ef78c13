// The command line as a process of its own: V8's settings for a process that is layerlens and
// nothing else (cli/heap.ts), then the command. bin/layerlens.js runs this module as the build
// bundles it, with everything it imports, into one file (dist/bundle/run.js); the reading threads
// start from dist/bundle/scan-worker.js beside it (fs/readers.ts).
import { boundOldGeneration, capYoungGeneration, limitInlining } from './heap.js';
import { main } from './main.js';

capYoungGeneration();
boundOldGeneration();
limitInlining();
main(process.argv).then((code) => {
  process.exitCode = code;
});
