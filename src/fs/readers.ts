// The threads that read layers (fs/scan-worker.ts): started on demand, or early, before an
// image is even opened, for the next pass to take. Kept apart from fs/layer-feed.ts so that a
// command can start them before loading the code that reads layers.
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { workerScript } from '../layer/threads.js';

/** Below this many stored bytes, starting threads costs more than it saves. */
const PARALLEL_MIN_BYTES = 16 * 1024 * 1024;
const MAX_WORKERS = 4;
const EARLY = Symbol.for('layerlens.earlyReaders');
const FLAGS = Symbol.for('layerlens.readerV8Flags');

type Shared = { [EARLY]?: Worker[]; [FLAGS]?: readonly string[] };

/**
 * V8 flags each reading thread sets as it starts, before anything else: the command line's
 * (cli/heap.ts), which owns its process; the library sets none. Kept on the process's global
 * object, as the early threads are, for both bundled copies of this module.
 */
export function setReaderV8Flags(flags: readonly string[]): void {
  (globalThis as Shared)[FLAGS] = flags;
}

/**
 * Threads to read `layers` layers holding `storedBytes` with: LAYERLENS_WORKERS if set (0 =
 * none), else none below PARALLEL_MIN_BYTES and one per core up to MAX_WORKERS and the layers.
 */
export function readerCount(storedBytes: number, layers: number): number {
  const forced = process.env.LAYERLENS_WORKERS;
  if (forced !== undefined && forced !== '') {
    const n = Number(forced);
    return Number.isInteger(n) && n >= 0 ? Math.min(n, layers) : 0;
  }
  if (storedBytes < PARALLEL_MIN_BYTES) return 0;
  return Math.min(layers, Math.max(1, os.availableParallelism()), MAX_WORKERS);
}

/** A reading thread, with a small nursery: what it allocates dies young (entries, chunk views). */
function newReader(): Worker {
  // V8 would grow a nursery to 32 MiB under load; 4 MiB is 8 MiB less at the peak on gzip.
  const v8Flags = (globalThis as Shared)[FLAGS] ?? [];
  return new Worker(workerScript(import.meta.url, 'scan-worker.js', 'fs'), { resourceLimits: { maxYoungGenerationSizeMb: 4 }, workerData: { v8Flags } });
}

/**
 * Threads started before the layers were known (startReadersEarly), for the next pass. Kept on
 * the process's global object: the command line starts them from its prelude (cli/prelude.ts),
 * which the build bundles apart from the rest of the program, so two copies of this module hand
 * out the same threads.
 */
const early: Worker[] = ((globalThis as Shared)[EARLY] ??= []);

/**
 * Start the threads that will read an image of `storedBytes` before it is opened: a thread takes
 * some 80-100 ms to start (Node's own bootstrap and the reading code), which then overlaps
 * loading the command and opening the image instead of following them. As many as readerCount()
 * gives for that many bytes with a layer per core; the next pass takes them and ends those it
 * does not need. Until then they do not hold the process open: a command that fails first just
 * ends.
 */
export function startReadersEarly(storedBytes: number): void {
  // The layers are not known yet: as if each had a core.
  const n = readerCount(storedBytes, Infinity);
  for (let i = early.length; i < n; i++) {
    const w = newReader();
    // One that fails or ends before it is taken is dropped: the pass starts its own instead.
    const drop = () => {
      const at = early.indexOf(w);
      if (at >= 0) early.splice(at, 1);
    };
    w.on('error', drop);
    w.on('exit', drop);
    w.unref();
    early.push(w);
  }
}

/** How many threads started early are waiting for a pass. */
export function earlyReaderCount(): number {
  return early.length;
}

/** A thread started early, if one is left (it holds the process open again), or a new one. */
export function takeReader(): Worker {
  const w = early.pop();
  if (!w) return newReader();
  w.removeAllListeners('error');
  w.removeAllListeners('exit');
  w.ref();
  return w;
}

/** Threads started early and being ended (terminate() finishes after the call returns). */
const ending = new Set<Promise<unknown>>();

/** The threads started early beyond the `keep` a pass will take end now; returns how many. */
export function endEarlyReaders(keep: number): number {
  let ended = 0;
  for (; early.length > keep; ended++) {
    const done = early.pop()!.terminate();
    ending.add(done);
    void done.finally(() => ending.delete(done));
  }
  return ended;
}

/** Resolves once every thread endEarlyReaders() ended is gone, its resources with it. */
export async function earlyReadersGone(): Promise<void> {
  await Promise.allSettled([...ending]);
}
