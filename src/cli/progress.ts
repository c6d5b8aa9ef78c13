// A progress line on stderr while layers are read: the stored bytes read of all the layers to
// read, and which layers are being read (several at once when worker threads read them). Only
// on a terminal, never with --format json or --quiet (main.ts decides and sets io.progress),
// redrawn at most ten times a second and wiped when the reading is done.
import type { Layer } from '../image/model.js';
import { humanSize } from '../report/units.js';
import type { Io } from './common.js';

export interface Progress {
  layer(layer: Layer, storedBytes: number): void;
  done(): void;
}

export function progressFor(io: Io, layers: Layer[]): Progress | undefined {
  if (!io.progress) return undefined;
  const total = layers.reduce((a, l) => a + Math.max(0, l.size), 0);
  /** Stored bytes read of each layer being read. */
  const reading = new Map<number, number>();
  let finished = 0;
  let last = 0;
  let shown = false;
  return {
    layer(layer, bytes) {
      const before = reading.get(layer.index) ?? 0;
      if (bytes < before) finished += before; // read again (a layer listed twice): count both passes
      if (layer.size > 0 && bytes >= layer.size) {
        reading.delete(layer.index);
        finished += bytes;
      } else reading.set(layer.index, bytes);
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      let read = finished;
      for (const b of reading.values()) read += b;
      // The layers being read; the one just finished when none is.
      const which = (reading.size > 0 ? [...reading.keys()].sort((a, b) => a - b) : [layer.index]).map((i) => i + 1);
      const at = ` (layer${which.length > 1 ? 's' : ''} ${which.join(', ')} of ${layers.length})`;
      const of = total > 0 ? ` of ${humanSize(total)}` : '';
      io.stderr.write(`\rlayerlens: reading layers: ${humanSize(read)}${of}${at}\u001b[K`);
      shown = true;
    },
    done() {
      if (shown) io.stderr.write('\r\u001b[K');
      shown = false;
    },
  };
}
