// Writing to a stream from synchronous callbacks (a tar entry's content), while letting the
// reader wait for the stream to drain between input chunks so memory stays bounded. Runs of
// zeros (the holes of sparse files, which may be gigabytes) are queued as lengths and written a
// bounded piece at a time, each piece waiting for the stream to drain, so that they never sit in
// memory whole.
import { once } from 'node:events';
import type { Writable } from 'node:stream';

export interface BackpressureWriter {
  write(chunk: Buffer): void;
  /** `n` zero bytes, in order with what is written around them. */
  zeros(n: number): void;
  /** Writes what is queued and resolves once the stream has room again (undefined when it has). */
  drain(): Promise<void> | undefined;
}

/** Zeros written for holes; never written into. */
const ZEROS = Buffer.alloc(64 * 1024);

export function writeWithBackpressure(out: Writable): BackpressureWriter {
  // What could not be written yet, in order: chunks (copies) and runs of zeros (lengths).
  const queue: Array<Buffer | number> = [];
  let head = 0;
  const flush = async () => {
    while (head < queue.length) {
      const item = queue[head]!;
      if (typeof item === 'number') {
        const n = Math.min(item, ZEROS.length);
        out.write(ZEROS.subarray(0, n));
        if (item > n) queue[head] = item - n;
        else head++;
      } else {
        out.write(item);
        head++;
      }
      if (out.writableNeedDrain) await once(out, 'drain');
    }
    queue.length = 0;
    head = 0;
  };
  return {
    write(chunk) {
      // The chunk is a view of the reader's buffer, which is reused: the stream gets a copy.
      if (head < queue.length) queue.push(Buffer.from(chunk));
      else out.write(Buffer.from(chunk));
    },
    zeros(n) {
      if (n <= 0) return;
      if (head === queue.length && n <= ZEROS.length && !out.writableNeedDrain) out.write(ZEROS.subarray(0, n));
      else queue.push(n);
    },
    drain() {
      if (head < queue.length) return flush();
      if (!out.writableNeedDrain) return undefined;
      return once(out, 'drain').then(() => undefined);
    },
  };
}
