// Writing to a stream from synchronous callbacks (a tar entry's content), while letting the
// reader wait for the stream to drain between input chunks so memory stays bounded.
import { once } from 'node:events';
import type { Writable } from 'node:stream';

export interface BackpressureWriter {
  write(chunk: Buffer): void;
  /** Resolves once the stream has room again (immediately when it has). */
  drain(): Promise<void> | undefined;
}

export function writeWithBackpressure(out: Writable): BackpressureWriter {
  return {
    write(chunk) {
      // The chunk is a view of the reader's buffer, which is reused: the stream gets a copy.
      out.write(Buffer.from(chunk));
    },
    drain() {
      if (!out.writableNeedDrain) return undefined;
      return once(out, 'drain').then(() => undefined);
    },
  };
}
