// The command line as a process of its own, once its prelude (prelude.ts) has run. bin/layerlens.js
// runs this module as the build bundles it, with everything it imports, into one file
// (dist/bundle/run.js); the reading threads start from dist/bundle/scan-worker.js beside it
// (fs/readers.ts).
import { main } from './main.js';

main(process.argv).then((code) => {
  process.exitCode = code;
});
