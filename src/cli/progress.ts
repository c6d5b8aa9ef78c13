// A progress line on stderr while layers are read: which layer, and how many of its stored bytes
// have gone by. Only on a terminal, never with --format json or --quiet (main.ts decides and sets
// io.progress), redrawn at most ten times a second and wiped when the reading is done.
import type { Layer } from '../image/model.js';
import { humanSize } from '../report/units.js';
import type { Io } from './common.js';

export interface Progress {
  layer(layer: Layer, storedBytes: number): void;
  done(): void;
}

export function progressFor(io: Io, layerCount: number): Progress | undefined {
  if (!io.progress) return undefined;
  let last = 0;
  let shown = false;
  return {
    layer(layer, bytes) {
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      const total = layer.size > 0 ? ` of ${humanSize(layer.size)}` : '';
      io.stderr.write(`\rlayerlens: reading layer ${layer.index + 1}/${layerCount}: ${humanSize(bytes)}${total}\u001b[K`);
      shown = true;
    },
    done() {
      if (shown) io.stderr.write('\r\u001b[K');
      shown = false;
    },
  };
}
