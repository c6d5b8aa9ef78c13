// The union filesystem, built one layer at a time with OCI whiteout semantics, as containerd and
// umoci apply layers:
// - a layer's opaque markers (`.wh..wh..opq`) and whiteouts (`.wh.NAME`) act only on what the
//   layers below it had, wherever they stand in the tar: entries are applied as they stream
//   past, every node remembers the layer that wrote it, and a whiteout removes only nodes of
//   lower layers (keeping, as a plain directory, a lower directory that this layer has already
//   put entries in); a later duplicate in one layer wins;
// - a non-directory replaces a directory and everything under it; a directory over a directory
//   keeps the children and takes the new metadata;
// - parents are resolved inside the root: a symlink on the way is followed, `..` stops at `/`,
//   missing directories are created (0755, root), as umoci does;
// - a hardlink takes the content its target has at that moment and keeps it, whatever later
//   happens to the target.
import { LayerlensError } from '../image/errors.js';
import { DEFAULT_LIMITS, limitError, type Limits } from '../image/limits.js';
import type { Change, ChangeReason, ChangeSet } from './changes.js';
import type { LayerEntry } from './entry.js';
import { FsNode, type NodeType } from './node.js';
import type { UnionObserver } from './observe.js';
import { OPAQUE_WHITEOUT, WHITEOUT_PREFIX, baseName, childPath, hasParentKey, joinPath, parentEnd, sortByPath, splitPath } from './path.js';

interface Snapshot {
  type: NodeType;
  hardlink: boolean;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  size: number;
  digest?: string;
  linkTarget?: string;
  xattrs?: Map<string, Buffer>;
  devMajor: number;
  devMinor: number;
}

interface Touch {
  before: Snapshot | null;
  after: FsNode | null;
  size: number;
  via?: Change['via'];
  removedPaths?: number;
  removedBytes?: number;
}

function snapshot(n: FsNode): Snapshot {
  return {
    type: n.type,
    hardlink: n.hardlink,
    mode: n.mode,
    uid: n.uid,
    gid: n.gid,
    mtime: n.mtime,
    size: n.size,
    digest: n.digest,
    linkTarget: n.type === 'symlink' ? n.linkTarget : undefined,
    xattrs: n.xattrs,
    devMajor: n.devMajor,
    devMinor: n.devMinor,
  };
}

function sameXattrs(a: Map<string, Buffer> | undefined, b: Map<string, Buffer> | undefined): boolean {
  const sa = a?.size ?? 0;
  const sb = b?.size ?? 0;
  if (sa !== sb) return false;
  if (sa === 0) return true;
  for (const [k, v] of a!) {
    const w = b!.get(k);
    if (!w || !w.equals(v)) return false;
  }
  return true;
}

function diff(before: Snapshot, after: FsNode): ChangeReason[] {
  const r: ChangeReason[] = [];
  if (before.type !== after.type || (before.type === 'char' || before.type === 'block') && (before.devMajor !== after.devMajor || before.devMinor !== after.devMinor)) r.push('type');
  if (before.type === 'file' && after.type === 'file') {
    if (before.digest !== after.digest) r.push('content');
    if (before.size !== after.size) r.push('size');
  }
  if (before.mode !== after.mode) r.push('mode');
  if (before.uid !== after.uid || before.gid !== after.gid) r.push('owner');
  if (after.type === 'symlink' && before.type === 'symlink' && before.linkTarget !== after.linkTarget) r.push('linkTarget');
  if (!sameXattrs(before.xattrs, after.xattrs)) r.push('xattrs');
  if (before.mtime !== after.mtime) r.push('mtime');
  return r;
}

/**
 * Directories a path may be nested in. Trees are walked recursively (listings, exports,
 * reports); Linux's PATH_MAX allows 2048 levels, and no image comes near.
 */
export const MAX_TREE_DEPTH = 2048;

/**
 * Path components all resolutions may walk, per entry --max-entries allows: a real layer takes
 * a few per entry; a crafted one could make each entry walk 40 symlinks of 2000 components.
 */
const STEPS_PER_ENTRY = 256;

export class Union {
  readonly root: FsNode;
  private nextInode = 1;
  /** How many layers have been applied. */
  layers = 0;
  /** Told of every node a layer hides, as it hides it (waste accounting). */
  observer: UnionObserver | undefined = undefined;
  /**
   * Symlinks followed to resolve one path, and the bytes of a resolved path (a symlink can
   * lead deeper than the name that goes through it): beyond either, a `limit` error.
   */
  limits: Pick<Limits, 'maxLinkDepth' | 'maxPathLength' | 'maxEntries' | 'maxMetadataBytes'> = { ...DEFAULT_LIMITS };
  /** Nodes made so far, and the bytes of their paths (each in full), link targets and xattrs: see charge(). */
  private made = 0;
  private metadataBytes = 0;
  /** Path components walked by every resolveDir so far. */
  private steps = 0;
  /** Bytes, and directories, of the path of the directory resolveDir returned last. */
  lastDepth = 0;
  lastLevels = 0;
  /** resolveDir followed a symlink on the way to the directory it returned last. */
  lastFollowed = false;

  constructor(root?: FsNode) {
    this.root = root ?? FsNode.make('', null, 'dir');
  }

  /**
   * An independent copy of the tree as it stands (inode numbers kept, so hard-link groups stay
   * groups): two images that share their lower layers build those once, then each continues
   * on its own copy.
   */
  clone(): Union {
    const copy = new Union(this.root.cloneInto(null));
    copy.nextInode = this.nextInode;
    copy.layers = this.layers;
    copy.limits = this.limits;
    copy.made = this.made;
    copy.metadataBytes = this.metadataBytes;
    return copy;
  }

  /**
   * Walk to the directory named by `components`, following symlinks inside the root; a
   * non-directory on the way ends the walk (undefined).
   *
   * `lexical` is how umoci (securejoin) resolves a path while it applies a layer: a component
   * that does not exist, or is not a directory, is passed over as a name, so that a later `..`
   * (from a symlink target) can climb back out of it; the path finally reached must then be
   * directories, and only its missing ones are made (with `create`). Otherwise, as the kernel resolves a path in a container, a missing
   * component means there is no such directory. `create` implies `lexical`. `absent` is a node
   * to walk as if it were not there (a path about to be cleared).
   */
  resolveDir(components: readonly string[], create: boolean, layer = -1, onImplied?: (n: FsNode) => void, lexical = create, absent?: FsNode): FsNode | undefined {
    const { maxLinkDepth, maxPathLength } = this.limits;
    let cur = this.root;
    // Components still to walk, the next one last (a symlink's target is pushed in its place).
    const stack = components.slice().reverse();
    let hops = 0;
    this.lastFollowed = false;
    // Bytes and directories of the path walked so far: a symlink may lead deeper than the name
    // that went through it.
    let depth = 0;
    let levels = 0;
    // Lexical mode: the missing directories walked below `cur` (everything below one is missing).
    const missing: string[] = [];
    while (stack.length > 0) {
      const name = stack.pop()!;
      // Each symlink may push thousands of components: bound the work of all resolutions.
      if (++this.steps > this.limits.maxEntries * STEPS_PER_ENTRY) throw this.tooManySteps();
      if (name === '' || name === '.') continue;
      if (name === '..') {
        if (missing.length > 0) {
          missing.pop();
        } else if (cur.parent) {
          depth -= Buffer.byteLength(cur.name) + 1;
          levels--;
          cur = cur.parent;
        }
        continue;
      }
      let child = missing.length > 0 ? undefined : cur.children!.get(name);
      if (child === absent) child = undefined;
      if (!child) {
        if (!lexical) return undefined;
        missing.push(name);
        continue;
      }
      if (child.type === 'symlink') {
        if (++hops > maxLinkDepth) throw limitError('maxLinkDepth', `too many levels of symbolic links resolving ${joinPath(components)}`, maxLinkDepth);
        this.lastFollowed = true;
        const target = child.linkTarget ?? '';
        if (target.startsWith('/')) {
          cur = this.root;
          depth = 0;
          levels = 0;
        }
        const parts = target.split('/');
        for (let i = parts.length - 1; i >= 0; i--) stack.push(parts[i]!);
        continue;
      }
      if (child.type !== 'dir') {
        if (!lexical) return undefined;
        missing.push(name);
        continue;
      }
      depth += Buffer.byteLength(child.name) + 1;
      levels++;
      cur = child;
    }
    if (missing.length > 0) {
      // The first name left over is not there, or is there and not a directory (nothing can be
      // made under it: a parent that is a file).
      if (!create || cur.children!.has(missing[0]!)) return undefined;
      for (const name of missing) {
        depth += Buffer.byteLength(name) + 1;
        if (depth > maxPathLength) throw this.tooDeep(components, cur, name);
        if (++levels > MAX_TREE_DEPTH) throw this.tooManyLevels(components);
        this.charge(depth);
        const child = FsNode.make(name, cur, 'dir');
        child.layer = layer;
        cur.children!.set(name, child);
        onImplied?.(child);
        cur = child;
      }
    }
    this.lastDepth = depth;
    this.lastLevels = levels;
    return cur;
  }

  private tooManySteps(): LayerlensError {
    return limitError(
      'maxEntries',
      `resolving the layers' paths took more than ${STEPS_PER_ENTRY} steps for each entry allowed (symbolic links with long targets, followed again and again)`,
      this.limits.maxEntries,
    );
  }

  /** A path may not be nested deeper than MAX_TREE_DEPTH directories, whatever --max-path-length allows. */
  tooManyLevels(components: readonly string[]): LayerlensError {
    const p = joinPath(components);
    const shown = p.length > 64 ? `${p.slice(0, 30)}…${p.slice(-30)}` : p;
    return new LayerlensError('limit', `${shown} leads more than ${MAX_TREE_DEPTH} directories deep (a fixed limit)`);
  }

  /**
   * Account for a node about to be made as `name` in a directory whose path has `dirDepth` bytes
   * (resolveDir's lastDepth): the number of nodes is bounded by maxEntries, and their paths (in
   * full), link targets and xattrs by maxMetadataBytes, so that no layer can make the tree (or a
   * listing of it) exhaust memory.
   */
  chargeEntry(dirDepth: number, name: string, linkTarget: string | undefined, xattrs: Map<string, Buffer> | undefined): void {
    let bytes = dirDepth + Buffer.byteLength(name) + 1;
    if (linkTarget) bytes += Buffer.byteLength(linkTarget);
    if (xattrs) for (const [k, v] of xattrs) bytes += k.length + v.length;
    this.charge(bytes);
  }

  private charge(bytes: number): void {
    if (++this.made > this.limits.maxEntries) throw limitError('maxEntries', 'the layers make too many paths', this.limits.maxEntries);
    this.metadataBytes += bytes;
    if (this.metadataBytes > this.limits.maxMetadataBytes) {
      throw limitError('maxMetadataBytes', 'the layers make paths, link targets and xattrs of too many bytes in all', this.limits.maxMetadataBytes);
    }
  }

  private tooDeep(components: readonly string[], at: FsNode, name: string): LayerlensError {
    const shorten = (p: string) => (p.length > 64 ? `${p.slice(0, 30)}…${p.slice(-30)}` : p);
    const reached = `${at === this.root ? '' : at.path}/${name}`;
    return limitError('maxPathLength', `${shorten(joinPath(components))} resolves, through symbolic links, to ${shorten(reached)}, a path too long`, this.limits.maxPathLength);
  }

  /**
   * The node at `path` (symlinks followed on the way, not at the end), or undefined. `lexical`:
   * resolved as a layer's hard link target is; `absent`: walked as if not there (see resolveDir).
   */
  lookup(path: string, lexical = false, absent?: FsNode): FsNode | undefined {
    const comps = splitPath(path);
    if (comps.length === 0) return this.root;
    const dir = this.resolveDir(comps.slice(0, -1), false, -1, undefined, lexical, absent);
    const node = dir?.children?.get(comps[comps.length - 1]!);
    return node === absent ? undefined : node;
  }

  /** The node at `path` with a final symlink followed too (inside the root). */
  resolve(path: string): FsNode | undefined {
    let node = this.lookup(path);
    let current: string[];
    for (let hops = 0; node && node.type === 'symlink'; hops++) {
      if (hops >= this.limits.maxLinkDepth) throw limitError('maxLinkDepth', `too many levels of symbolic links resolving ${path}`, this.limits.maxLinkDepth);
      const target = node.linkTarget ?? '';
      // From the directory the link really is in (its parents may have been symlinks too);
      // `..` stops at the root, as resolution inside the root must.
      current = clampJoin(splitPath(node.path).slice(0, -1), target);
      node = current.length === 0 ? this.root : this.resolveDir(current.slice(0, -1), false)?.children?.get(current[current.length - 1]!);
    }
    return node;
  }

  /** A fresh inode number for a new regular file. */
  newInode(): number {
    return this.nextInode++;
  }

  /**
   * Start applying layer `layer`: feed it entries in tar order, then `finish()`. With `track`
   * false the layer's change set is not recorded (finish returns no changes), which saves the
   * work for callers that only want the resulting tree.
   */
  beginLayer(layer: number, track = true): LayerApplier {
    this.layers = Math.max(this.layers, layer + 1);
    return new LayerApplier(this, layer, track);
  }

  /** Apply one layer's entries on top of what is there; returns what the layer changed. */
  apply(entries: LayerEntry[], layer: number): ChangeSet {
    const applier = this.beginLayer(layer);
    for (const e of entries) applier.add(e);
    return applier.finish();
  }
}

/** One layer being applied; it records what each path was before the layer first touched it. */
export class LayerApplier {
  /** Touched nodes in the order they were first touched; merged by path when the layer is done. */
  private readonly byNode = new Map<FsNode, Touch>();
  /** Nodes this layer's whiteouts have purged of lower content, and directories it made opaque. */
  private readonly purged = new Set<FsNode>();
  private readonly opaque = new Set<FsNode>();
  private readonly warnings: string[] = [];
  private readonly implied = (n: FsNode) => {
    if (this.track) this.touch(n, false).after = n;
  };

  constructor(
    private readonly union: Union,
    readonly layer: number,
    private readonly track = true,
  ) {}

  private readonly scratch: Touch = { before: null, after: null, size: 0 };

  /**
   * The parent directory the last entry was placed in, by the raw name up to its last component
   * (parentKey), with its depth and levels: tars list a directory's entries together, and an
   * entry changes only its own name inside that directory, so the next entry with the same key
   * finds the same directory without walking from the root again. Only a directory reached
   * without a symlink is kept: through one, the entry's own name may be on the way (`l -> .`,
   * then `l/l`). A whiteout or an opaque marker sets it as any entry does (what it removes is
   * inside that directory); an entry that does not set it clears it.
   */
  private parentName: string | undefined = undefined;
  private parentDir: FsNode | undefined = undefined;
  private parentDepth = 0;
  private parentLevels = 0;

  /**
   * Record a node the layer is about to change (`existed`: it was there before), once. What it
   * was is a copy of its fields, or with `leaving` the node itself: a node taken out of the tree
   * is never changed again (a copy was made for each of manyfiles' 63,000 whiteouts).
   */
  private touch(node: FsNode, existed: boolean, leaving = false): Touch {
    if (!this.track) return this.scratch;
    let t = this.byNode.get(node);
    if (!t) {
      t = { before: existed ? (leaving ? node : snapshot(node)) : null, after: node, size: 0 };
      this.byNode.set(node, t);
    }
    return t;
  }

  private remove(node: FsNode, via: Change['via']): void {
    this.union.observer?.removed(node, this.layer, via ?? 'whiteout');
    if (!this.track) {
      node.parent!.children!.delete(node.name);
      return;
    }
    const t = this.touch(node, true, true);
    let paths = 1;
    let bytes = node.type === 'file' ? node.size : 0;
    for (const d of node.descendants()) {
      paths++;
      if (d.type === 'file') bytes += d.size;
      const td = this.byNode.get(d);
      if (td) td.after = null;
    }
    node.parent!.children!.delete(node.name);
    t.after = null;
    t.via = via;
    t.removedPaths = (t.removedPaths ?? 0) + paths;
    t.removedBytes = (t.removedBytes ?? 0) + bytes;
  }

  private isCurrent(n: FsNode): boolean {
    return n.layer === this.layer;
  }

  private hasCurrent(n: FsNode): boolean {
    // A loop over a stack, not descendants(): a whiteout over a directory of 100,000 files walks it here.
    const stack = [n];
    while (stack.length > 0) {
      for (const c of stack.pop()!.children?.values() ?? []) {
        if (this.isCurrent(c)) return true;
        if (c.children) stack.push(c);
      }
    }
    return false;
  }

  /**
   * Remove what the lower layers had at `n`, keeping what this layer wrote: a whiteout or an
   * opaque marker never hides an entry of its own layer, whatever their order in the tar.
   */
  private purgeLower(n: FsNode, via: Change['via']): void {
    // Once purged, a subtree holds nothing of the lower layers (this layer adds only its own):
    // a layer that whites out one path a million times walks it once.
    if (this.purged.has(n)) return;
    if (!this.isCurrent(n) && !this.hasCurrent(n)) {
      this.remove(n, via);
      return;
    }
    this.purged.add(n);
    if (n.children) for (const c of [...n.children.values()]) this.purgeLower(c, via);
    if (!this.isCurrent(n)) {
      // A lower directory kept only for this layer's entries inside it: as if the whiteout came
      // first and the entries then implied a fresh directory.
      const t = this.touch(n, true);
      n.mode = 0o755;
      n.uid = 0;
      n.gid = 0;
      n.mtime = 0;
      n.xattrs = undefined;
      n.layer = this.layer;
      n.entry = -1;
      t.after = n;
    }
  }

  /** Apply one entry; returns the node it made (so its content hash can be set when known). */
  add(e: LayerEntry): FsNode | undefined {
    // The same parent as the last entry's: only the last component is new, and the name needs no
    // cleaning beyond that (parentKey vouches that the last component is a plain name).
    const end = parentEnd(e.path);
    if (this.parentDir && hasParentKey(e.path, end, this.parentName)) {
      const base = baseName(e.path);
      if (!base.startsWith(WHITEOUT_PREFIX)) return this.addEntry(e, undefined, base);
      // A whiteout in that directory acts only on its children: the directory stays, and so
      // does the shortcut (a layer that deletes 45,000 files lists them directory by directory).
      this.whiteout(this.parentDir, base);
      return undefined;
    }
    const key = end < 0 ? undefined : e.path.slice(0, end);
    const comps = splitPath(e.path);
    const base = comps[comps.length - 1];
    if (base !== undefined && base.startsWith(WHITEOUT_PREFIX)) {
      // The directory is found as an entry's would be, only none is made (a directory that is
      // not there has nothing to hide); where it is there, the entries after go in it as well.
      const dir = this.union.resolveDir(comps.slice(0, -1), false, -1, undefined, true);
      this.remember(comps.length > 1 ? key : undefined, dir);
      if (dir) this.whiteout(dir, base);
      return undefined;
    }
    if (comps.length === 0) {
      // The root itself (`./`): only its metadata.
      if (e.type === 'dir') setMeta(this.union.root, e, this.layer, this.union);
      return undefined;
    }
    return this.addEntry(e, comps, base!, comps.length > 1 ? key : undefined);
  }

  /** The directory resolveDir just returned for the parent named `key`, for the entries after. */
  private remember(key: string | undefined, dir: FsNode | undefined): void {
    const union = this.union;
    this.parentName = key;
    this.parentDir = key === undefined || union.lastFollowed ? undefined : dir;
    this.parentDepth = union.lastDepth;
    this.parentLevels = union.lastLevels;
  }

  /** A `.wh.NAME` or `.wh..wh..opq` entry (`marker`) found in directory `dir`. */
  private whiteout(dir: FsNode, marker: string): void {
    if (marker === OPAQUE_WHITEOUT) {
      if (dir.children && !this.opaque.has(dir)) {
        this.opaque.add(dir);
        for (const child of [...dir.children.values()]) this.purgeLower(child, 'opaque');
      }
      return;
    }
    const name = marker.slice(WHITEOUT_PREFIX.length);
    if (name === '' || name === '.' || name === '..') return;
    const node = dir.children?.get(name);
    if (node) this.purgeLower(node, 'whiteout');
  }

  /**
   * `comps`: the cleaned path, or undefined where `name` goes in the last entry's directory
   * (parentDir). `key`: the entry's parentKey, where its parent is not the root.
   */
  private addEntry(e: LayerEntry, comps: string[] | undefined, name: string, key?: string): FsNode | undefined {
    const layer = this.layer;
    const union = this.union;
    if (e.type === 'other') {
      this.warnings.push(`${e.path}: tar entry type ${JSON.stringify(e.type)} is not a filesystem object; ignored`);
      return undefined;
    }
    let dir: FsNode | undefined;
    if (comps === undefined) {
      dir = this.parentDir!;
      union.lastDepth = this.parentDepth;
      union.lastLevels = this.parentLevels;
    } else {
      dir = union.resolveDir(comps.slice(0, -1), true, layer, this.implied);
      this.remember(key, dir);
    }
    if (!dir) {
      this.warnings.push(`${e.path}: a parent is not a directory; entry ignored (tar and umoci would fail here)`);
      return undefined;
    }
    const dirDepth = union.lastDepth;
    if (union.lastLevels + 1 > MAX_TREE_DEPTH) throw union.tooManyLevels(comps ?? splitPath(e.path));
    const existing = dir.children!.get(name);

    if (e.type === 'hardlink') {
      const target = union.lookup(e.linkname, true);
      if (!target || target.type === 'dir') {
        this.warnings.push(`${e.path}: hardlink to ${target ? 'a directory' : 'a missing path'} ${e.linkname}; entry ignored`);
        return undefined;
      }
      if (target === existing) return undefined; // a link to itself changes nothing
      if (existing && union.lookup(e.linkname, true, existing) !== target) {
        // Making the link clears its path first: a target inside that directory, or reached
        // through that symlink, is then gone (umoci resolves the target after clearing, and fails).
        this.warnings.push(`${e.path}: hardlink to ${e.linkname}, which is reached through the path the link replaces; entry ignored`);
        return undefined;
      }
      if (existing) this.replace(existing);
      union.chargeEntry(dirDepth, name, target.linkTarget ?? e.linkname, target.xattrs);
      const node = FsNode.make(name, dir, target.type);
      node.mode = target.mode;
      node.uid = target.uid;
      node.gid = target.gid;
      node.mtime = target.mtime;
      node.xattrs = target.xattrs;
      node.linkTarget = target.type === 'symlink' ? target.linkTarget : joinPath(splitPath(e.linkname));
      node.hardlink = true;
      node.devMajor = target.devMajor;
      node.devMinor = target.devMinor;
      node.shareContent(target);
      if (target.inode === 0) target.inode = union.newInode();
      node.inode = target.inode;
      node.layer = layer;
      node.entry = e.ordinal;
      dir.children!.set(name, node);
      this.touch(node, false);
      if (existing) union.observer?.replaced(existing, node, layer);
      return undefined;
    }

    if (existing && existing.type === 'dir' && e.type === 'dir') {
      this.touch(existing, true);
      setMeta(existing, e, layer, union);
      return existing;
    }
    if (existing) this.replace(existing);
    union.chargeEntry(dirDepth, name, e.type === 'symlink' ? e.linkname : undefined, e.xattrs);
    let node: FsNode;
    let old = existing;
    if (existing && existing.type !== 'dir' && e.type !== 'dir' && existing.layer !== layer) {
      // A lower layer's file (or link, or device) written over: the node is renewed in place
      // rather than dropped for a new one, which an image that overwrites 100,000 files would
      // leave behind as old garbage. The watchers see the old one as a copy that dies at once.
      // (Not a node of this layer: the waste ledger keeps those until the layer ends.)
      old = union.observer ? existing.detachedCopy() : undefined;
      node = existing;
      node.renew(e.type);
    } else {
      node = FsNode.make(name, dir, e.type);
      dir.children!.set(name, node);
    }
    setMeta(node, e, layer, union);
    const t = this.touch(node, false);
    t.after = node;
    t.size = e.type === 'file' ? e.size : 0;
    if (old) union.observer?.replaced(old, node, layer);
    return node;
  }

  /**
   * A node about to be replaced by a new one at its path: a directory's children go (as umoci
   * removes them); the new node is recorded against what was there.
   */
  private replace(existing: FsNode): void {
    const t = this.touch(existing, true);
    if (existing.type === 'dir' && existing.children) for (const child of [...existing.children.values()]) this.remove(child, 'replaced');
    t.after = null;
  }

  /** The layer is done: what it changed, against what was there before it. */
  finish(): ChangeSet {
    // Merge touches by path: what was there first, what is there last. Two nodes are touched at
    // one path only where the first left it (removed, or replaced by the second), which ends its
    // touch with no node: only such a path is kept in a map for the touches after it to merge
    // into (a layer of 120,000 new files made a map entry and a copy of each touch).
    const paths: string[] = [];
    const touches: Touch[] = [];
    const left = new Map<string, Touch>();
    let lastParent: FsNode | null = null;
    let lastParentPath = '';
    // (forEach: a for...of over the map made an entry array for each of its 120,000 nodes.)
    this.byNode.forEach((t, node) => {
      // The path from its parent's, which the nodes of one directory share (they come together).
      let path: string;
      if (!node.parent) path = '/';
      else {
        if (node.parent !== lastParent) {
          lastParent = node.parent;
          lastParentPath = lastParent.path;
        }
        path = childPath(lastParentPath, node.name);
      }
      // (Most layers leave no path, and then no path string need be hashed.)
      const m = left.size === 0 ? undefined : left.get(path);
      if (!m) {
        if (t.after === null) {
          const copy = { ...t };
          left.set(path, copy);
          t = copy;
        }
        paths.push(path);
        touches.push(t);
        return;
      }
      // Later touches at one path are nodes that replaced the earlier ones.
      if (m.before === null) m.before = t.before;
      m.after = t.after;
      if (t.after !== null) m.size = t.size;
      if (t.removedPaths) {
        m.removedPaths = (m.removedPaths ?? 0) + t.removedPaths;
        m.removedBytes = (m.removedBytes ?? 0) + (t.removedBytes ?? 0);
        m.via = t.via;
      }
    });
    const changes: Change[] = [];
    for (let i = 0; i < paths.length; i++) {
      const path = paths[i]!;
      const t = touches[i]!;
      if (t.before === null && t.after === null) continue;
      if (t.before === null) {
        changes.push({ path, kind: 'added', reasons: NO_REASONS, type: typeName(t.after!), size: t.size });
      } else if (t.after === null) {
        changes.push({ path, kind: 'removed', reasons: NO_REASONS, type: t.before.hardlink ? 'hardlink' : t.before.type, size: 0, removedPaths: t.removedPaths, removedBytes: t.removedBytes, via: t.via });
      } else {
        const reasons = diff(t.before, t.after);
        // A directory re-emitted as the parent of a change is not itself a change; one removed and
        // made again in this layer is, as it took everything it held with it (the paths that
        // went are counted on it, and would otherwise go unreported).
        if (t.after.type === 'dir' && t.before.type === 'dir' && !t.removedPaths && reasons.every((r) => r === 'mtime')) continue;
        const change: Change = { path, kind: 'modified', reasons: reasons.length ? reasons : NO_REASONS, type: typeName(t.after), size: t.size };
        if (t.removedPaths) {
          change.removedPaths = t.removedPaths;
          change.removedBytes = t.removedBytes;
          change.via = t.via;
        }
        changes.push(change);
      }
    }
    this.byNode.clear();
    sortByPath(changes);
    return { layer: this.layer, changes, warnings: this.warnings };
  }
}

const NO_REASONS: ChangeReason[] = Object.freeze([]) as unknown as ChangeReason[];

function setMeta(node: FsNode, e: LayerEntry, layer: number, union: Union): void {
  // A symlink has no permissions of its own on Linux: extracted, it is always 0777.
  node.mode = e.type === 'symlink' ? 0o777 : e.mode;
  node.uid = e.uid;
  node.gid = e.gid;
  node.mtime = e.mtime;
  node.xattrs = e.xattrs;
  node.layer = layer;
  node.entry = e.ordinal;
  node.hardlink = false;
  if (e.type === 'symlink') node.linkTarget = e.linkname;
  if (e.type === 'char' || e.type === 'block') {
    node.devMajor = e.devMajor;
    node.devMinor = e.devMinor;
  }
  if (e.type === 'file') {
    // (The fields themselves, not the `content` setter: an object per file for nothing. The
    // node is no hard link here, so its bytes are where it was written: layer and entry above.)
    node.size = e.size;
    node.digest = e.sha256 === undefined ? undefined : Buffer.from(e.sha256, 'hex').toString('latin1');
    node.inode = union.newInode();
  }
}

function typeName(n: FsNode): string {
  return n.hardlink ? 'hardlink' : n.type;
}

/** Join a symlink target onto the directory holding the link, `..` stopping at the root. */
function clampJoin(base: string[], target: string): string[] {
  const out = target.startsWith('/') ? [] : [...base];
  for (const part of target.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return out;
}
