// Hooks into the union build for what watches it go by: every entry a layer's tar holds, and
// every node a layer hides. Waste accounting (fs/ledger.ts) and dive's per-layer trees
// (fs/dive-trees.ts, through analysis/dive.ts) are built this way, in the same single pass.
import type { LayerEntry } from './entry.js';
import type { FsNode } from './node.js';

/** How a layer removed a path: an explicit whiteout, an opaque directory, or replaced by a non-directory. */
export type RemovedVia = 'whiteout' | 'opaque' | 'replaced';

/** Told of every node that stops being visible, at the moment the layer hides it. */
export interface UnionObserver {
  /** `node` and everything under it are about to be removed by `layer` (still attached). */
  removed(node: FsNode, layer: number, via: RemovedVia): void;
  /** `old` was replaced at its path by `now` (a later entry at the same path; `now`'s digest may come later in the layer). */
  replaced(old: FsNode, now: FsNode, layer: number): void;
}

export interface BuildObserver {
  beginLayer?(layer: number): void;
  /**
   * Each entry of the layer in tar order, after the union applied it, with the node it made
   * (regular files, directories, symlinks, devices; undefined for hard links, whiteouts and
   * entries the union could not place).
   */
  entry?(e: LayerEntry, node: FsNode | undefined): void;
  /** The layer is done: every content digest of it is known (but those left for later, see `digestsWanted`). */
  endLayer?(layer: number): void;
  /**
   * After a build that left large files unhashed (fs/deferred.ts): the contents, as content
   * keys (fs/ledger.ts), whose digests this watcher needs.
   */
  digestsWanted?(): Iterable<number>;
  /** Those digests are in: `digestOf` gives each (undefined for one never hashed). */
  digestsSettled?(digestOf: (key: number) => string | undefined): void;
  /** What the union hides as it applies the layers. */
  union?: UnionObserver;
}
