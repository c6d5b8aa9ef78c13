// The command line's own V8 settings (the heap's sizes, how much the optimizing compiler inlines),
// for a process that is layerlens and nothing else (the library leaves the process's settings alone).
import { PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';
import { setReaderV8Flags } from '../fs/readers.js';

/** The young generation's size (both semi-spaces) beyond which it may not grow. */
const YOUNG_CAP = 4 * 1024 * 1024;

/** Set a V8 flag for the whole process. */
function setFlag(flag: string): void {
  try {
    v8.setFlagsFromString(flag);
  } catch {
    // not a V8 that has the flag: nothing changes
  }
}

const STOP_GROWTH = '--semi-space-growth-factor=1';

function stopGrowth(): void {
  setFlag(STOP_GROWTH);
}

/**
 * The starting size, in MiB, of a worker thread's semi-spaces (its young generation holds two;
 * fs/layer-feed.ts lets it reach 4 MiB). The growth factor set below is the whole process's, so
 * it pins each worker's young generation at V8's starting 1 MiB as well: a worker reading
 * manyfiles collected 260-320 times (0.22-0.30 s). A worker's heap takes its starting size from
 * the flags as it is made: at 2 MiB, 128-156 collections (0.13-0.19 s), manyfiles `analyze`
 * 3.92 against 4.26 s (0.4 s less CPU) in 5 MB more; debian-big the same time, 3 MB more.
 */
const WORKER_SEMI_SPACE_MIB = 2;

function sizeWorkers(): void {
  setFlag(`--min-semi-space-size=${WORKER_SEMI_SPACE_MIB}`);
}

function youngSize(): number {
  return v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
}

/**
 * Cap the main thread's young generation at YOUNG_CAP. V8 doubles it, up to 32 MiB on 64-bit,
 * while many of the objects it holds survive, as the union's nodes do: that reserve was a fifth
 * of `analyze`'s peak memory on a large image (debian-big 156-160 MB; capped at 4 MiB, 114-121
 * MB; at 8 MiB, 125-128). It costs time where the main thread is the one at work, on images of
 * hundreds of thousands of files (manyfiles: 3.19-3.47 s at 4 MiB, 3.34 s at 8, 2.90-3.02 s at
 * 16 or 32, in 245, 252 and 281 MB; interleaved runs); memory is the one that was over its
 * target on both kinds, so the cap stays at 4 MiB. (A cap growing with the old generation, an
 * eighth of it, gave manyfiles 3.10 s in 282 MB against 3.23 s in 245 MB.)
 *
 * `--max-semi-space-size` is read only at start-up, but the growth factor is read each time V8
 * grows the space: the space is grown to the cap here and now (V8 grows it once enough of what
 * it holds has survived; `growNow` false leaves it at V8's starting size), and growth stopped.
 * Each new isolate puts the factor back to V8's default (Node 20, measured: even a value given
 * on the command line is lost), so every reading thread stops it again as its first statement
 * (fs/readers.ts setReaderV8Flags). Left to events (a collection reported, a thread online), it
 * came too late: those wait for a turn of the event loop, and one turn of a busy main thread saw
 * the space grow from 2 to 32 MiB (manyfiles: young generation at 4, 8, 16 and 32 MiB in 6, 3, 2
 * and 1 of 12 runs, peak 177-183, 183-189, 190-194 and 214 MiB). Those events still stop it,
 * for any other thread.
 */
export function capYoungGeneration(growNow = true): void {
  if (growNow) growYoungGeneration();
  stopGrowth();
  setReaderV8Flags([STOP_GROWTH]);
  // Set again at each collection reported (a cheap no-op unless something put it back).
  new PerformanceObserver(stopGrowth).observe({ entryTypes: ['gc'] });
  // Read when an isolate is made: this thread's is made already, the workers' are not.
  sizeWorkers();
  process.on('worker', (worker) =>
    worker.once('online', () => {
      sizeWorkers();
      stopGrowth();
    }),
  );
}

/** The most this thread allocates to have V8 grow its young generation to YOUNG_CAP. */
const GROW_BUDGET = 32 * 1024 * 1024;

/**
 * Grow this thread's young generation to YOUNG_CAP: V8 grows it after a collection once more
 * bytes have survived since it last grew than the space holds, so arrays are kept until it has
 * (some 1.2 MB in 3-4 ms here). Bounded, for a V8 that would grow it otherwise.
 */
function growYoungGeneration(): void {
  const kept: number[][] = [];
  for (let bytes = 0; youngSize() < YOUNG_CAP && bytes < GROW_BUDGET; bytes += 64 * 1024) kept.push(new Array<number>(8 * 1024));
}

/**
 * How far, in percent, the old generation may grow past what the last full collection kept
 * before V8 collects it again. Left to itself V8 allows up to 4x, from how fast collecting is
 * against how fast the program allocates: while a union of 318,000 entries is built (manyfiles),
 * it let 20 MiB of removed nodes wait, and `analyze` peaked at 200 MB. Held at 1.5x, 182 MB, for
 * more full collections (7-8 instead of 2-3) and young ones that run while marking is on: 2.62 ->
 * 2.67 s (0.1 s more CPU) there, 2.90 -> 3.00 s on its gzip copy read in one thread (medians of
 * four interleaved pairs); the Debian image, a smaller heap, the same either way. V8 reads the
 * setting at each collection, so it holds from here on, for the workers too.
 */
const OLD_GROWTH_PERCENT = 50;

/** Hold the old generation's growth between full collections at OLD_GROWTH_PERCENT. */
export function boundOldGeneration(): void {
  setFlag(`--heap-growing-percent=${OLD_GROWTH_PERCENT}`);
}

/**
 * The bytecode, in bytes, that V8's optimizing compiler may inline into one function (V8's own
 * limit: 920). A run of `analyze` is seconds long and has three isolates (the main thread and two
 * reading threads) each optimizing the same hot functions, some of them again after a
 * deoptimization: on debian-big's gzip copy, perf put a tenth of the process's CPU time in V8's
 * compiler threads, competing with inflate and sha256 for two cores. Inlining less makes smaller
 * graphs to compile; small functions (getters, path helpers) are still inlined whatever the
 * budget. Measured as CPU seconds, medians of interleaved runs on this shared machine: debian-big
 * gzip 8.36 -> 8.16 and 8.82 -> 8.50, manyfiles gzip 4.76 -> 4.37 and 6.12 -> 5.74. No inlining
 * at all saved more where threads read layers (debian-big gzip 8.36 -> 7.92) but cost the image
 * of small files read in one thread (6.12 -> 6.34). A budget of 300 was taken first; once the
 * per-entry code was lighter and no longer deoptimized in loops, 150 did better still (analyze,
 * CPU seconds, medians of interleaved pairs in two rounds: manyfiles 4.09 -> 3.84 and 4.13 ->
 * 3.90, debian-big gzip 7.28 -> 6.96 and 7.07 -> 7.11, manyfiles gzip 3.64 -> 3.62; 60 was no
 * better than 150 and worse on the gzip copy read in one thread). V8 reads the setting for each
 * compilation.
 */
const INLINE_BUDGET = 150;

/** Hold what V8's optimizing compiler inlines into a function to INLINE_BUDGET bytes of bytecode. */
export function limitInlining(): void {
  setFlag(`--max-inlined-bytecode-size-cumulative=${INLINE_BUDGET}`);
}
