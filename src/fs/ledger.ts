// Where the bytes of an image go, seen while the union is built: the bytes each layer stores (the
// regular files of its tar; a hard link stores none), and every stored copy that stops being
// visible — its path, its size, the layer that stored it, the layer that hid it and how:
// overwritten (other content at the path), metadata-only (the same content stored again, as a
// chmod or chown does), or removed (a whiteout, an opaque directory, replaced by a directory or a
// link, or never placeable because a parent is not a directory).
//
// A hidden copy may still be visible through a hard link made to it before it was hidden; the
// final tree decides (analysis/waste.ts). Memory grows with the number of hidden copies, kept in
// paged typed arrays (about 35 bytes each), names in a pool and directories shared.
import type { LayerEntry } from './entry.js';
import type { FsNode } from './node.js';
import type { BuildObserver, RemovedVia, UnionObserver } from './observe.js';
import { NamePool, PagedFloat64, PagedInt32, PagedUint8 } from './paged.js';
import { WHITEOUT_PREFIX, baseName, childPath, comparePaths, joinPath, splitPath } from './path.js';

export type HideReason = 'overwritten' | 'metadata-only' | 'removed';

export const WHY: readonly HideReason[] = ['overwritten', 'metadata-only', 'removed'];
const WHY_PENDING = 255;

/** For `removed`: how. */
export const REMOVED_VIA = ['whiteout', 'opaque', 'replaced', 'unreachable'] as const;
export type RemovedHow = (typeof REMOVED_VIA)[number];

/** For `metadata-only`: what changed, as bits. None of them: an identical copy. */
export const META_MODE = 1;
export const META_OWNER = 2;
export const META_MTIME = 4;
export const META_XATTRS = 8;

export interface LedgerOptions {
  /** Paths to leave out of every figure (their bytes are neither stored nor wasted). */
  exclude?: (path: string) => boolean;
}

/** One hidden copy, as analysis reads it. */
export interface HiddenCopy {
  path: string;
  size: number;
  /** The layer that stored it. */
  layer: number;
  /** The layer that hid it. */
  by: number;
  why: HideReason;
  /** For removed: how (`REMOVED_VIA`); for metadata-only: the META_* bits that changed. */
  detail: number;
  /** The entry's ordinal in its layer's tar: with `layer`, names the stored bytes. */
  entry: number;
}

export class WasteLedger implements BuildObserver, UnionObserver {
  /** Bytes of regular-file content each layer stores (excluded paths left out). */
  readonly storedBytes: number[] = [];
  readonly storedFiles: number[] = [];
  /** Bytes each layer stores at excluded paths. */
  readonly excludedBytes: number[] = [];

  private n = 0;
  private entryOf = new PagedInt32();
  private layerOf = new PagedInt32();
  private byOf = new PagedInt32();
  private sizeOf = new PagedFloat64();
  private whyOf = new PagedUint8();
  private detailOf = new PagedUint8();
  // Paths: the directory as an index into `dirs` (siblings share it), the name in a pool.
  private dirOf = new PagedInt32();
  private nameAt = new PagedInt32();
  private nameLen = new PagedInt32();
  private names = new NamePool();
  private dirs: string[] = [];
  private dirIds = new Map<string, number>();

  private current = -1;
  // Replacements whose new content is not hashed yet: classified when the layer is done. The old
  // node is not kept (a layer may replace a hundred thousand files), only its digest.
  private pendingIndex: number[] = [];
  private pendingDigest: Array<string | undefined> = [];
  private pendingNow: FsNode[] = [];
  // Replaced by content of the same size whose digest (or the old one's) was left for later
  // (fs/deferred.ts): counted as overwritten until the digests say otherwise.
  private unsettled: Array<{ index: number; bits: number; was: string | undefined; wasKey: number; now: string | undefined; nowKey: number }> = [];
  private dirPaths = new Map<FsNode, string>();
  readonly union: UnionObserver = this;

  constructor(private readonly options: LedgerOptions = {}) {}

  /** How many copies were hidden. */
  get hiddenCount(): number {
    return this.n;
  }

  copy(i: number): HiddenCopy {
    const why = this.whyOf.get(i);
    return {
      path: this.path(i),
      size: this.sizeOf.get(i),
      layer: this.layerOf.get(i),
      by: this.byOf.get(i),
      why: WHY[why] ?? 'overwritten',
      detail: this.detailOf.get(i),
      entry: this.entryOf.get(i),
    };
  }

  /** The stored bytes of copy `i`, as a number unique in the image (layer and entry ordinal). */
  key(i: number): number {
    return contentKey(this.layerOf.get(i), this.entryOf.get(i));
  }

  size(i: number): number {
    return this.sizeOf.get(i);
  }

  layer(i: number): number {
    return this.layerOf.get(i);
  }

  by(i: number): number {
    return this.byOf.get(i);
  }

  why(i: number): HideReason {
    return WHY[this.whyOf.get(i)] ?? 'overwritten';
  }

  path(i: number): string {
    const dir = this.dirs[this.dirOf.get(i)]!;
    return childPath(dir, this.name(i));
  }

  name(i: number): string {
    return this.names.get(this.nameAt.get(i), this.nameLen.get(i));
  }

  /** A hash of copy `i`'s path (equal for copies samePath() says are of one path). */
  pathHash(i: number): number {
    const seed = Math.imul(0x811c9dc5 ^ this.dirOf.get(i), 0x01000193);
    const h = this.names.hash(this.nameAt.get(i), this.nameLen.get(i), seed);
    return (h ^ (h >>> 15)) >>> 0;
  }

  /** Copies `a` and `b` are of one path. */
  samePath(a: number, b: number): boolean {
    return this.dirOf.get(a) === this.dirOf.get(b) && this.compareNames(a, b) === 0;
  }

  /** Bytewise order of the paths of two copies (read in place; strings made only past ASCII). */
  comparePaths(a: number, b: number): number {
    const da = this.dirOf.get(a);
    const db = this.dirOf.get(b);
    if (da === db) return this.compareNames(a, b);
    // The path is the directory (empty for the root), a slash, then the name.
    const dirA = this.dirs[da]!;
    const dirB = this.dirs[db]!;
    const pa = dirA === '/' ? '' : dirA;
    const pb = dirB === '/' ? '' : dirB;
    const at = (dir: string, i: number, x: number) => (i < dir.length ? dir.charCodeAt(i) : i === dir.length ? 0x2f : this.names.unit(this.nameAt.get(x), i - dir.length - 1));
    const la = pa.length + 1 + this.nameLen.get(a);
    const lb = pb.length + 1 + this.nameLen.get(b);
    for (let i = 0; i < la && i < lb; i++) {
      const x = at(pa, i, a);
      const y = at(pb, i, b);
      if (x === y) continue;
      return x < 0x80 && y < 0x80 ? x - y : comparePaths(this.path(a), this.path(b));
    }
    return la - lb;
  }

  private compareNames(a: number, b: number): number {
    const d = this.names.compare(this.nameAt.get(a), this.nameLen.get(a), this.nameAt.get(b), this.nameLen.get(b));
    return Number.isNaN(d) ? comparePaths(this.name(a), this.name(b)) : d;
  }

  beginLayer(layer: number): void {
    this.current = layer;
    this.storedBytes[layer] = 0;
    this.storedFiles[layer] = 0;
    this.excludedBytes[layer] = 0;
  }

  entry(e: LayerEntry, node: FsNode | undefined): void {
    if (e.type !== 'file') return;
    const layer = this.current;
    if (!node) {
      // A whiteout or an opaque marker: no content (told apart before the path is split: a
      // last component that starts so is a plain name, the cleaned path's last one too).
      if (baseName(e.path).startsWith(WHITEOUT_PREFIX)) return;
      // Stored but never placed (a parent is not a directory): not visible.
      const comps = splitPath(e.path);
      const name = comps.pop() ?? '';
      if (name.startsWith(WHITEOUT_PREFIX)) return;
      const dir = joinPath(comps);
      if (this.excluded(dir, name)) {
        this.excludedBytes[layer] = (this.excludedBytes[layer] ?? 0) + e.size;
        return;
      }
      this.count(layer, e.size);
      this.push(e.ordinal, layer, e.size, layer, 2, 3, dir, name);
      return;
    }
    if (this.options.exclude && this.excluded(this.dirPath(node.parent!), node.name)) {
      this.excludedBytes[layer] = (this.excludedBytes[layer] ?? 0) + e.size;
      return;
    }
    this.count(layer, e.size);
  }

  removed(node: FsNode, layer: number, via: RemovedVia): void {
    const how = REMOVED_VIA.indexOf(via);
    const visit = (n: FsNode, dir: string) => {
      if (n.type === 'file') {
        if (!n.hardlink) this.hide(n, dir, layer, 2, how);
        return;
      }
      if (!n.children || n.children.size === 0) return;
      const path = childPath(dir, n.name);
      for (const c of n.children.values()) visit(c, path);
    };
    visit(node, this.dirPath(node.parent!));
  }

  replaced(old: FsNode, now: FsNode, layer: number): void {
    if (old.type !== 'file' || old.hardlink) return;
    // What changed besides the content is known now; the content's digest at the end of the layer.
    let bits = 0;
    if (now.type === 'file') {
      if (now.mode !== old.mode) bits |= META_MODE;
      if (now.uid !== old.uid || now.gid !== old.gid) bits |= META_OWNER;
      if (now.mtime !== old.mtime) bits |= META_MTIME;
      if (!sameXattrs(now.xattrs, old.xattrs)) bits |= META_XATTRS;
    }
    const index = this.hide(old, this.dirPath(old.parent!), layer, WHY_PENDING, bits);
    if (index < 0) return;
    this.pendingIndex.push(index);
    this.pendingDigest.push(old.digest);
    this.pendingNow.push(now);
  }

  endLayer(): void {
    for (let k = 0; k < this.pendingIndex.length; k++) {
      const index = this.pendingIndex[k]!;
      const was = this.pendingDigest[k];
      const now = this.pendingNow[k]!;
      if (now.type !== 'file') {
        this.whyOf.set(index, 2);
        this.detailOf.set(index, 2); // replaced by a directory, a link, a device
      } else if (now.digest === undefined || was === undefined || now.digest !== was) {
        if ((now.digest === undefined || was === undefined) && now.size === this.sizeOf.get(index)) {
          this.unsettled.push({ index, bits: this.detailOf.get(index), was, wasKey: this.key(index), now: now.digest, nowKey: contentKey(now.dataLayer, now.dataEntry) });
        }
        this.whyOf.set(index, 0);
        this.detailOf.set(index, 0);
      } else {
        this.whyOf.set(index, 1); // the same content stored again: the metadata bits say what changed
      }
    }
    this.pendingIndex = [];
    this.pendingDigest = [];
    this.pendingNow = [];
    this.dirPaths.clear();
  }

  digestsWanted(): number[] {
    return this.unsettled.flatMap((u) => [...(u.was === undefined ? [u.wasKey] : []), ...(u.now === undefined ? [u.nowKey] : [])]);
  }

  digestsSettled(digestOf: (key: number) => string | undefined): void {
    for (const u of this.unsettled) {
      const was = u.was ?? digestOf(u.wasKey);
      const now = u.now ?? digestOf(u.nowKey);
      if (was === undefined || now === undefined || was !== now) continue;
      this.whyOf.set(u.index, 1);
      this.detailOf.set(u.index, u.bits);
    }
    this.unsettled = [];
  }

  private count(layer: number, size: number): void {
    this.storedBytes[layer] = (this.storedBytes[layer] ?? 0) + size;
    this.storedFiles[layer] = (this.storedFiles[layer] ?? 0) + 1;
  }

  private excluded(dir: string, name: string): boolean {
    const exclude = this.options.exclude;
    return exclude !== undefined && exclude(childPath(dir, name));
  }

  /** Record a hidden regular file; returns its index, or -1 when its path is excluded. */
  private hide(n: FsNode, dir: string, by: number, why: number, detail: number): number {
    if (this.excluded(dir, n.name)) return -1;
    return this.push(n.entry, n.layer, n.size, by, why, detail, dir, n.name);
  }

  private push(entry: number, layer: number, size: number, by: number, why: number, detail: number, dir: string, name: string): number {
    const i = this.n++;
    this.entryOf.set(i, entry);
    this.layerOf.set(i, layer);
    this.byOf.set(i, by);
    this.sizeOf.set(i, size);
    this.whyOf.set(i, why);
    this.detailOf.set(i, detail);
    let d = this.dirIds.get(dir);
    if (d === undefined) {
      d = this.dirs.length;
      this.dirs.push(dir);
      this.dirIds.set(dir, d);
    }
    this.dirOf.set(i, d);
    this.nameAt.set(i, this.names.add(name));
    this.nameLen.set(i, name.length);
    return i;
  }

  /** The path of a directory node, remembered for the rest of the layer (siblings share it). */
  private dirPath(dir: FsNode): string {
    let p = this.dirPaths.get(dir);
    if (p === undefined) {
      p = dir.path;
      this.dirPaths.set(dir, p);
    }
    return p;
  }

}

/** The stored bytes of a file: its layer and its entry's ordinal, as one number. */
export function contentKey(layer: number, entry: number): number {
  return layer * 4294967296 + entry;
}

/** The layer of a content key. */
export function contentLayer(key: number): number {
  return Math.floor(key / 4294967296);
}

/** The entry ordinal of a content key. */
export function contentEntry(key: number): number {
  return key % 4294967296;
}

function sameXattrs(a: Map<string, Buffer> | undefined, b: Map<string, Buffer> | undefined): boolean {
  const sa = a?.size ?? 0;
  if (sa !== (b?.size ?? 0)) return false;
  if (sa === 0) return true;
  for (const [k, v] of a!) {
    const w = b!.get(k);
    if (!w || !w.equals(v)) return false;
  }
  return true;
}
