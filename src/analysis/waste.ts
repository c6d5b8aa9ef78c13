// Where an image's bytes go: what each layer stores, what of it is still visible in the final
// filesystem, and what is wasted — each hidden copy counted once (an overwritten file's old
// contents, a chmod- or chown-only copy, a removed file or directory), the visible copy never.
// Also: identical contents stored at several visible paths, and the split between a base image's
// layers and yours. A pure function of what the union build recorded (fs/ledger.ts) and of the
// final tree: one walk of the tree, one sort of the hidden copies.
import { META_MODE, META_MTIME, META_OWNER, META_XATTRS, REMOVED_VIA, contentKey, type HideReason, type WasteLedger } from '../fs/ledger.js';
import type { FsNode } from '../fs/node.js';
import { childPath, comparePaths } from '../fs/path.js';
import type { Union } from '../fs/union.js';
import type { DiveMetrics } from './dive.js';

export interface WastedCopy {
  /** The layer that stored it. */
  layer: number;
  bytes: number;
  /** The layer that hid it. */
  hiddenBy: number;
  why: HideReason;
  /** `chmod only`, `chown only`, `identical copy`, ... for metadata-only; `whiteout`, `opaque directory`, `replaced`, `unreachable` for removed. */
  change: string;
}

export interface WastedPath {
  path: string;
  /** Hidden copies of this path. */
  copies: number;
  wastedBytes: number;
  /** Layers that stored them (each once, ascending). */
  layers: number[];
  /** Layers that hid them. */
  hiddenBy: number[];
  why: HideReason[];
  detail: WastedCopy[];
}

export interface LayerWaste {
  index: number;
  /** Bytes of file content the layer stores. */
  storedBytes: number;
  storedFiles: number;
  /** Of those, still visible in the final filesystem. */
  visibleBytes: number;
  /** Of those, hidden by this or a later layer. */
  wastedBytes: number;
  /** Bytes of earlier layers this layer hid. */
  hidesBytes: number;
  /** visible / stored; null for a layer that stores no file content. */
  efficiency: number | null;
  base: boolean;
}

export interface DuplicateGroup {
  sha256: string;
  /** Bytes of one copy. */
  size: number;
  /** Distinct stored copies (hard links to one copy count once). */
  copies: number;
  /** What keeping one copy (or hard-linking the others to it) would save. */
  savableBytes: number;
  /** Every visible path with this content, bytewise order. */
  paths: string[];
}

export interface WasteSplit {
  /** The layers of this part, as indexes. */
  layers: number[];
  storedBytes: number;
  visibleBytes: number;
  /**
   * Base: bytes stored and hidden within the base layers. Yours: bytes stored in your layers and
   * hidden, plus bytes of the base that your layers hid.
   */
  wastedBytes: number;
  /** visible / stored of these layers' own bytes; null when they store nothing. */
  efficiency: number | null;
  /** wastedBytes / storedBytes; null when they store nothing. */
  wastedPercent: number | null;
}

export interface WasteResult {
  storedBytes: number;
  visibleBytes: number;
  wastedBytes: number;
  /** visible / stored (1 for an image that stores nothing). */
  efficiency: number;
  hiddenCopies: number;
  byReason: { overwritten: number; metadataOnly: number; removed: number };
  /** Bytes at paths left out with --ignore. */
  excludedBytes: number;
  /** All wasted paths, and the first `top` of them (most bytes first). */
  pathCount: number;
  paths: WastedPath[];
  layers: LayerWaste[];
  duplicateCount: number;
  duplicateBytes: number;
  duplicates: DuplicateGroup[];
  base: WasteSplit & { source: string | null };
  user: WasteSplit;
  dive: DiveMetrics;
}

export interface WasteOptions {
  /** How many paths and duplicate groups to list (0: all). */
  top: number;
  /** Layers 0..baseLayers-1 are the base image's. */
  baseLayers: number;
  /** How the base was given (`--base-layers 3`, `--base-image FILE`), or null. */
  baseSource?: string | null;
  /** Paths left out of every figure. */
  exclude?: (path: string) => boolean;
}

/** The whole account, from the ledger of a finished build, its final tree and dive's figures. */
export function wasteReport(ledger: WasteLedger, union: Union, dive: DiveMetrics, options: WasteOptions): WasteResult {
  const layerCount = Math.max(ledger.storedBytes.length, union.layers);
  const exclude = options.exclude;
  const visibleByLayer = new Array<number>(layerCount).fill(0);
  const linked = new Set<number>();
  const digests: string[] = [];

  // One walk of the final tree: visible bytes by layer, the stored copies hard links still reach,
  // and the content of each visible stored copy (for duplicates).
  walkFiles(union.root, exclude, (n) => {
    if (n.hardlink) {
      linked.add(contentKey(n.dataLayer, n.dataEntry));
      return;
    }
    visibleByLayer[n.layer] = (visibleByLayer[n.layer] ?? 0) + n.size;
    if (n.size > 0 && n.digest !== undefined) digests.push(n.digest);
  });

  // Hidden copies a hard link still reaches are visible after all.
  let hiddenCount = 0;
  const hiddenAll = new Int32Array(ledger.hiddenCount);
  const rescued = new Set<number>();
  for (let i = 0; i < ledger.hiddenCount; i++) {
    if (linked.has(ledger.key(i))) {
      visibleByLayer[ledger.layer(i)] = (visibleByLayer[ledger.layer(i)] ?? 0) + ledger.size(i);
      rescued.add(ledger.key(i));
    } else {
      hiddenAll[hiddenCount++] = i;
    }
  }
  const hidden = hiddenAll.subarray(0, hiddenCount);

  const B = Math.max(0, Math.min(options.baseLayers, layerCount));
  const layers: LayerWaste[] = [];
  for (let l = 0; l < layerCount; l++) {
    const stored = ledger.storedBytes[l] ?? 0;
    layers.push({ index: l, storedBytes: stored, storedFiles: ledger.storedFiles[l] ?? 0, visibleBytes: visibleByLayer[l] ?? 0, wastedBytes: 0, hidesBytes: 0, efficiency: null, base: l < B });
  }
  const byReason = { overwritten: 0, metadataOnly: 0, removed: 0 };
  let wastedBytes = 0;
  let baseWasted = 0;
  let userWasted = 0;
  for (const i of hidden) {
    const size = ledger.size(i);
    const from = ledger.layer(i);
    const by = ledger.by(i);
    wastedBytes += size;
    layers[from]!.wastedBytes += size;
    if (by > from) layers[by]!.hidesBytes += size;
    const why = ledger.why(i);
    if (why === 'overwritten') byReason.overwritten += size;
    else if (why === 'metadata-only') byReason.metadataOnly += size;
    else byReason.removed += size;
    if (from < B && by < B) baseWasted += size;
    else userWasted += size;
  }
  for (const l of layers) l.efficiency = l.storedBytes > 0 ? l.visibleBytes / l.storedBytes : null;

  const storedBytes = layers.reduce((a, l) => a + l.storedBytes, 0);
  const visibleBytes = layers.reduce((a, l) => a + l.visibleBytes, 0);
  const split = (ls: LayerWaste[], wasted: number): WasteSplit => {
    const stored = ls.reduce((a, l) => a + l.storedBytes, 0);
    const visible = ls.reduce((a, l) => a + l.visibleBytes, 0);
    return {
      layers: ls.map((l) => l.index),
      storedBytes: stored,
      visibleBytes: visible,
      wastedBytes: wasted,
      efficiency: stored > 0 ? visible / stored : null,
      wastedPercent: stored > 0 ? wasted / stored : null,
    };
  };

  const { pathCount, paths } = wastedPaths(ledger, hidden, options.top);
  const dups = duplicates(union, exclude, digests, rescued, options.top);

  return {
    storedBytes,
    visibleBytes,
    wastedBytes,
    efficiency: storedBytes > 0 ? visibleBytes / storedBytes : 1,
    hiddenCopies: hidden.length,
    byReason,
    excludedBytes: ledger.excludedBytes.reduce((a, b) => a + (b ?? 0), 0),
    pathCount,
    paths,
    layers,
    duplicateCount: dups.count,
    duplicateBytes: dups.bytes,
    duplicates: dups.groups,
    base: { ...split(layers.slice(0, B), baseWasted), source: options.baseSource ?? null },
    user: split(layers.slice(B), userWasted),
    dive,
  };
}

/** The hidden copies grouped by path, most bytes first; only the first `top` are spelled out. */
function wastedPaths(ledger: WasteLedger, hidden: Int32Array, top: number): { pathCount: number; paths: WastedPath[] } {
  // Copies of one path found through a hash table of paths, in one pass: sorting every copy by
  // path to bring them together cost 0.2 s on an image that overwrites 120,000 files. Only the
  // groups shown are put in order.
  const n = hidden.length;
  const groupOf = new Int32Array(n);
  const firstAll = new Int32Array(n); // a copy of each group, for its path
  const bytesAll = new Float64Array(n);
  const table = emptyTable(n);
  const mask = table.length - 1;
  let groupCount = 0;
  for (let k = 0; k < n; k++) {
    const i = hidden[k]!;
    let slot = ledger.pathHash(i) & mask;
    let g: number;
    for (;;) {
      g = table[slot]!;
      if (g === -1) {
        g = groupCount++;
        table[slot] = g;
        firstAll[g] = i;
        break;
      }
      if (ledger.samePath(firstAll[g]!, i)) break;
      slot = (slot + 1) & mask;
    }
    groupOf[k] = g;
    bytesAll[g]! += ledger.size(i);
  }
  const first = firstAll.subarray(0, groupCount);
  const bytes = bytesAll.subarray(0, groupCount);
  // Most bytes first, then by path (bytewise). With a limit, only the groups that can be among the
  // first `top` are sorted: those with at least the bytes of the top-th largest.
  let candidates: Int32Array;
  if (top > 0 && groupCount > top) {
    const least = kthLargest(bytes, top);
    let count = 0;
    for (let g = 0; g < groupCount; g++) if (bytes[g]! >= least) count++;
    candidates = new Int32Array(count);
    count = 0;
    for (let g = 0; g < groupCount; g++) if (bytes[g]! >= least) candidates[count++] = g;
  } else {
    candidates = new Int32Array(groupCount).map((_, g) => g);
  }
  candidates.sort((a, b) => bytes[b]! - bytes[a]! || ledger.comparePaths(first[a]!, first[b]!));
  const shown = Array.from(top > 0 ? candidates.subarray(0, top) : candidates);
  // Each shown group's copies, by the layer that stored them (then as recorded).
  const place = new Int32Array(groupCount).fill(-1);
  shown.forEach((g, at) => (place[g] = at));
  const members = shown.map((): number[] => []);
  for (let k = 0; k < n; k++) {
    const at = place[groupOf[k]!]!;
    if (at >= 0) members[at]!.push(hidden[k]!);
  }
  for (const list of members) list.sort((a, b) => ledger.layer(a) - ledger.layer(b) || a - b);
  const paths = shown.map((g, at): WastedPath => {
    const detail: WastedCopy[] = [];
    for (const i of members[at]!) {
      const c = ledger.copy(i);
      detail.push({ layer: c.layer, bytes: c.size, hiddenBy: c.by, why: c.why, change: changeText(c.why, c.detail) });
    }
    return {
      path: ledger.path(first[g]!),
      copies: detail.length,
      wastedBytes: bytes[g]!,
      layers: unique(detail.map((d) => d.layer)),
      hiddenBy: unique(detail.map((d) => d.hiddenBy)),
      why: [...new Set(detail.map((d) => d.why))],
      detail,
    };
  });
  return { pathCount: groupCount, paths };
}

/**
 * Identical contents at several visible paths, by the bytes one copy would save. `digests` holds
 * the content of each visible stored copy; a copy reached only through hard links (its own path
 * hidden) is counted here.
 */
function duplicates(union: Union, exclude: ((path: string) => boolean) | undefined, digests: string[], rescued: Set<number>, top: number): { count: number; bytes: number; groups: DuplicateGroup[] } {
  if (rescued.size > 0) {
    const counted = new Set<number>();
    walkFiles(union.root, exclude, (n) => {
      if (!n.hardlink || n.size === 0 || n.digest === undefined) return;
      const key = contentKey(n.dataLayer, n.dataEntry);
      if (!rescued.has(key) || counted.has(key)) return;
      counted.add(key);
      digests.push(n.digest);
    });
  }
  // Contents with more than one copy, through a table of indexes into `digests` placed by a
  // digest's first four bytes (a sha256 is uniform already): a third of the time of a Set of the
  // strings, which hashes each (a Set was half the time of sorting them, on 130,000 files).
  const copiesOf = new Map<string, number>();
  const table = emptyTable(digests.length);
  const mask = table.length - 1;
  for (let k = 0; k < digests.length; k++) {
    const d = digests[k]!;
    let slot = (d.charCodeAt(0) | (d.charCodeAt(1) << 8) | (d.charCodeAt(2) << 16) | (d.charCodeAt(3) << 24)) & mask;
    for (;;) {
      const j = table[slot]!;
      if (j === -1) {
        table[slot] = k;
        break;
      }
      if (digests[j] === d) {
        copiesOf.set(d, (copiesOf.get(d) ?? 1) + 1);
        break;
      }
      slot = (slot + 1) & mask;
    }
  }
  digests.length = 0;
  const byDigest = new Map<string, DuplicateGroup>();
  if (copiesOf.size > 0) {
    walkFiles(union.root, exclude, (n, dir) => {
      if (n.size === 0 || n.digest === undefined) return;
      const copies = copiesOf.get(n.digest);
      if (copies === undefined) return;
      let g = byDigest.get(n.digest);
      if (!g) byDigest.set(n.digest, (g = { sha256: Buffer.from(n.digest, 'latin1').toString('hex'), size: n.size, copies, savableBytes: n.size * (copies - 1), paths: [] }));
      g.paths.push(childPath(dir, n.name));
    });
  }
  const groups = [...byDigest.values()];
  let bytes = 0;
  for (const g of groups) {
    bytes += g.savableBytes;
    g.paths.sort(comparePaths);
  }
  groups.sort((a, b) => b.savableBytes - a.savableBytes || comparePaths(a.paths[0]!, b.paths[0]!));
  return { count: groups.length, bytes, groups: top > 0 ? groups.slice(0, top) : groups };
}

/** Every regular file of the tree (paths left out excepted), with the path of its directory. */
function walkFiles(root: FsNode, exclude: ((path: string) => boolean) | undefined, visit: (n: FsNode, dir: string) => void): void {
  // (forEach: a Map's for...of makes an iterator result per child, 130,000 of them.)
  const walk = (dir: FsNode, path: string) =>
    dir.children!.forEach((n) => {
      if (n.type === 'dir') walk(n, childPath(path, n.name));
      else if (n.type === 'file' && !(exclude && exclude(childPath(path, n.name)))) visit(n, path);
    });
  walk(root, '/');
}

/** The k-th largest of `values` (k ≤ its length), through a min-heap of the k largest seen. */
function kthLargest(values: Float64Array, k: number): number {
  const heap = new Float64Array(k);
  let size = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (size < k) {
      // Sift up.
      let at = size++;
      while (at > 0) {
        const up = (at - 1) >> 1;
        if (heap[up]! <= v) break;
        heap[at] = heap[up]!;
        at = up;
      }
      heap[at] = v;
    } else if (v > heap[0]!) {
      // Replace the smallest, sift down.
      let at = 0;
      for (;;) {
        let child = 2 * at + 1;
        if (child >= k) break;
        if (child + 1 < k && heap[child + 1]! < heap[child]!) child++;
        if (heap[child]! >= v) break;
        heap[at] = heap[child]!;
        at = child;
      }
      heap[at] = v;
    }
  }
  return heap[0]!;
}

/** The slots of an open-addressing table for `count` keys: a power of two, at least twice as many, all empty (-1). */
function emptyTable(count: number): Int32Array {
  let size = 1024;
  while (size < 2 * count) size *= 2;
  return new Int32Array(size).fill(-1);
}

function unique(xs: number[]): number[] {
  return [...new Set(xs)].sort((a, b) => a - b);
}

/** How a hidden copy was hidden, in words. */
export function changeText(why: HideReason, detail: number): string {
  if (why === 'removed') return REMOVED_VIA[detail] === 'opaque' ? 'opaque directory' : REMOVED_VIA[detail] ?? 'removed';
  if (why === 'overwritten') return 'content changed';
  const mode = (detail & META_MODE) !== 0;
  const owner = (detail & META_OWNER) !== 0;
  if (mode && owner) return 'chmod and chown';
  if (mode) return (detail & META_XATTRS) !== 0 ? 'chmod and xattrs' : 'chmod only';
  if (owner) return (detail & META_XATTRS) !== 0 ? 'chown and xattrs' : 'chown only';
  if ((detail & META_XATTRS) !== 0) return 'xattrs only';
  if ((detail & META_MTIME) !== 0) return 'mtime only';
  return 'identical copy';
}
