// The command line's own heap settings, for a process that is layerlens and nothing else (the
// library leaves the process's settings alone).
import v8 from 'node:v8';

const FLAG = '--semi-space-growth-factor=1';

function apply(): void {
  try {
    v8.setFlagsFromString(FLAG);
  } catch {
    // not a V8 that has the flag: nothing changes
  }
}

/**
 * Keep the main thread's young generation at its starting size. V8 grows it (up to 32 MiB on
 * 64-bit) when many of the objects it holds survive, as the union's nodes do: that reserve was a
 * fifth of `analyze`'s peak memory on a large image (debian-big 156-160 -> 130 MB) and saved no
 * time measurably (manyfiles' 318,000 entries: 2.8-3.5 s either way). `--max-semi-space-size` is
 * read only at start-up, but the growth factor is read each time V8 grows the space, so it can be
 * set from here. A worker thread's start-up puts it back to V8's default (Node 20, measured: even
 * a value given on the command line is lost), so it is set again as each worker comes online.
 */
export function keepYoungGenerationSmall(): void {
  apply();
  process.on('worker', (worker) => worker.once('online', apply));
}
