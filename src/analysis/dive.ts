// dive's efficiency figures, computed exactly as dive computes them (its filetree.Efficiency and
// image analysis), so that a CI threshold set against dive gives the same verdict here. The quirks
// are dive's and are kept:
// - every leaf of every layer's own tree counts, by path: a file, a symlink (size 0), an empty
//   directory, a whiteout (counted at the path it removes); a directory with children in that
//   layer does not count itself;
// - a whiteout counts the bytes the stacked layers below had under a removed *directory*, and 0
//   for a removed file or for a directory the last layer to name it only implied;
// - a whiteout of a path the layers below do not have stops the counting of the rest of that
//   layer (dive's walk returns the error), leaving that path counted with a minimum of -1;
// - opaque directories hide nothing;
// - a path's "wasted bytes" are the bytes of *every* copy, the one still visible included, and a
//   path is inefficient as soon as a second layer names it (or a second entry of one layer, where
//   a whiteout and a file name one path);
// - efficiency = Σ per path of its smallest copy / Σ of all copies;
// - the user wasted percent is wasted bytes / the size of every layer but the first, each layer's
//   size being the sum of its tar header sizes;
// - the inefficient files are sorted by Go's sort.Sort on bytes (not stable), then listed largest
//   first.
import type { LayerEntry } from '../fs/entry.js';
import { DiveTrees, type DiveLeaf } from '../fs/dive-trees.js';
import type { BuildObserver } from '../fs/observe.js';
import { PagedFloat64, PagedInt32 } from '../fs/paged.js';
import { goSortArray } from './gosort.js';

export interface DiveFile {
  path: string;
  /** Layers (entries) that named the path. */
  count: number;
  /** The bytes of all of them. */
  wastedBytes: number;
}

export interface DiveMetrics {
  /** 0..1; 1 for an image with nothing in it. */
  efficiency: number;
  sizeBytes: number;
  /** The size of every layer but the first. */
  userSizeBytes: number;
  wastedBytes: number;
  /** wastedBytes / userSizeBytes; null where dive divides by zero (a one-layer image). */
  userWastedPercent: number | null;
  /** How many paths dive lists as inefficient. */
  inefficientFileCount: number;
  /** Largest first, as dive lists them (the first `top` of them). */
  inefficientFiles: DiveFile[];
}

/** Feeds dive's layer trees from the union build and accumulates dive's per-path counts. */
export class DiveTally implements BuildObserver {
  readonly trees = new DiveTrees();
  private cum = new PagedFloat64();
  /** The smallest copy of each path in dive's map; NaN for a path not in it. */
  private min = new PagedFloat64(Number.NaN);
  private seen = new PagedInt32();
  /** Paths in the order they became inefficient (their second copy), as dive appends them. */
  private order: number[] = [];

  beginLayer(layer: number): void {
    this.trees.beginLayer(layer);
  }

  entry(e: LayerEntry): void {
    this.trees.add(e.path, e.tarSize ?? e.size, e.type === 'dir');
  }

  endLayer(): void {
    this.trees.endLayer(this.visit);
  }

  private readonly visit = (leaf: DiveLeaf, trees: DiveTrees): boolean => {
    const id = leaf.path;
    this.reserve(trees.size);
    if (Number.isNaN(this.min.get(id))) this.min.set(id, -1); // in dive's map from here on, even if the walk stops
    let size = leaf.size;
    if (leaf.whiteout) {
      if (!trees.present(id)) return false; // dive: "path does not exist", the walk stops
      size = trees.stackedIsDir(id) ? trees.stackedSubtreeSize(id) : 0;
    }
    this.cum.add(id, size);
    const min = this.min.get(id);
    if (min < 0 || size < min) this.min.set(id, size);
    this.seen.add(id, 1);
    if (this.seen.get(id) === 2) this.order.push(id);
    return true;
  };

  private slots = 0;

  private reserve(n: number): void {
    if (n <= this.slots) return;
    this.cum.reserve(n);
    this.min.reserve(n);
    this.seen.reserve(n);
    this.slots = n;
  }

  /** dive's figures for the layers read so far; the inefficient files listed are the first `top` (0: all). */
  metrics(top = 0): DiveMetrics {
    let minimum = 0;
    let discovered = 0;
    for (let id = 0; id < this.slots; id++) {
      const min = this.min.get(id);
      if (Number.isNaN(min)) continue;
      minimum += min;
      discovered += this.cum.get(id);
    }
    const order = this.order;
    return diveMetrics(
      {
        layerSizes: this.trees.layerSizes,
        minimumPathSizes: minimum,
        discoveredPathSizes: discovered,
        inefficientCount: order.length,
        count: (i) => this.seen.get(order[i]!),
        wastedBytes: (i) => this.cum.get(order[i]!),
        path: (i) => this.trees.path(order[i]!),
      },
      top,
    );
  }
}

/** dive's per-path counts, as its efficiency pass leaves them. */
export interface DiveCounts {
  /** Each layer's size: the sum of its tar header sizes. */
  layerSizes: readonly number[];
  minimumPathSizes: number;
  discoveredPathSizes: number;
  /** Paths seen more than once; `i` counts them in the order they were seen the second time. */
  inefficientCount: number;
  count(i: number): number;
  wastedBytes(i: number): number;
  path(i: number): string;
}

/** dive's figures from its per-path counts; the inefficient files listed are the first `top` (0: all). */
export function diveMetrics(c: DiveCounts, top = 0): DiveMetrics {
  const efficiency = c.discoveredPathSizes === 0 ? 1 : c.minimumPathSizes / c.discoveredPathSizes;
  // Read once: the sort compares each many times (manyfiles: 100,000 paths). (Loops, not
  // Array.from, which steps an iterator object per element.)
  const idx: number[] = [];
  const wasted = new Float64Array(c.inefficientCount);
  for (let i = 0; i < c.inefficientCount; i++) {
    idx.push(i);
    wasted[i] = c.wastedBytes(i);
  }
  goSortArray(idx, (a, b) => wasted[a]! < wasted[b]!);
  idx.reverse();
  let sizeBytes = 0;
  let userSizeBytes = 0;
  c.layerSizes.forEach((s, i) => {
    sizeBytes += s ?? 0;
    if (i !== 0) userSizeBytes += s ?? 0;
  });
  const wastedBytes = idx.reduce((a, i) => a + wasted[i]!, 0);
  const pct = wastedBytes / userSizeBytes;
  const shown = top > 0 ? idx.slice(0, top) : idx;
  return {
    efficiency,
    sizeBytes,
    userSizeBytes,
    wastedBytes,
    userWastedPercent: Number.isFinite(pct) ? pct : null,
    inefficientFileCount: idx.length,
    inefficientFiles: shown.map((i) => ({ path: c.path(i), count: c.count(i), wastedBytes: wasted[i]! })),
  };
}
