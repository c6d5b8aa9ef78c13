// What the command line does before it loads its commands: V8's settings for a process that is
// layerlens and nothing else (heap.ts: they must be in place before the first worker thread
// starts), then, for a command that reads layers, the reading threads (early.ts), which boot
// while the rest of the program loads. The build bundles this apart from run.ts, so that it runs
// before that larger file is even parsed (fs/readers.ts hands the threads over).
import { readsLayers, startReadersForCommand } from './early.js';
import { boundOldGeneration, capYoungGeneration, limitInlining } from './heap.js';

// (A command that reads no layers keeps a small heap: its young generation is not grown first.)
capYoungGeneration(readsLayers(process.argv));
boundOldGeneration();
limitInlining();
startReadersForCommand(process.argv);
