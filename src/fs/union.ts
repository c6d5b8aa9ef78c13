// The union filesystem, built one layer at a time with OCI whiteout semantics, as containerd and
// umoci apply layers:
// - a layer's opaque markers (`.wh..wh..opq`) and whiteouts (`.wh.NAME`) act only on what the
//   layers below it had, whatever their position in the tar: they are applied first, then the
//   layer's other entries, in tar order (a later duplicate wins);
// - a non-directory replaces a directory and everything under it; a directory over a directory
//   keeps the children and takes the new metadata;
// - parents are resolved inside the root: a symlink on the way is followed, `..` stops at `/`,
//   missing directories are created (0755, root), as umoci does;
// - a hardlink takes the content its target has at that moment and keeps it, whatever later
//   happens to the target.
import { LayerlensError } from '../image/errors.js';
import type { Change, ChangeReason, ChangeSet } from './changes.js';
import type { LayerEntry } from './entry.js';
import { FsNode, type NodeType } from './node.js';
import { OPAQUE_WHITEOUT, WHITEOUT_PREFIX, comparePaths, joinPath, splitPath } from './path.js';

const MAX_SYMLINK_HOPS = 255;

interface Snapshot {
  type: NodeType;
  hardlink: boolean;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  size: number;
  sha256?: string;
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
    sha256: n.content?.sha256,
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
    if (before.sha256 !== after.content?.sha256) r.push('content');
    if (before.size !== after.size) r.push('size');
  }
  if (before.mode !== after.mode) r.push('mode');
  if (before.uid !== after.uid || before.gid !== after.gid) r.push('owner');
  if (after.type === 'symlink' && before.type === 'symlink' && before.linkTarget !== after.linkTarget) r.push('linkTarget');
  if (!sameXattrs(before.xattrs, after.xattrs)) r.push('xattrs');
  if (before.mtime !== after.mtime) r.push('mtime');
  return r;
}

export class Union {
  readonly root = new FsNode('', null, 'dir');
  private nextInode = 1;
  /** How many layers have been applied. */
  layers = 0;

  /**
   * Walk to the directory named by `components`, following symlinks inside the root.
   * With `create`, missing directories are made; a non-directory on the way ends the walk.
   */
  resolveDir(components: readonly string[], create: boolean, layer = -1): FsNode | undefined {
    let cur = this.root;
    const stack = [...components];
    let hops = 0;
    while (stack.length > 0) {
      const name = stack.shift()!;
      if (name === '' || name === '.') continue;
      if (name === '..') {
        cur = cur.parent ?? this.root;
        continue;
      }
      let child = cur.children!.get(name);
      if (!child) {
        if (!create) return undefined;
        child = new FsNode(name, cur, 'dir');
        child.layer = layer;
        cur.children!.set(name, child);
        this.onImplied?.(child);
      }
      if (child.type === 'symlink') {
        if (++hops > MAX_SYMLINK_HOPS) throw new LayerlensError('limit', `too many levels of symbolic links resolving ${joinPath(components)}`);
        const target = child.linkTarget ?? '';
        if (target.startsWith('/')) cur = this.root;
        stack.unshift(...target.split('/'));
        continue;
      }
      if (child.type !== 'dir') return undefined;
      cur = child;
    }
    return cur;
  }

  /** The node at `path` (symlinks followed on the way, not at the end), or undefined. */
  lookup(path: string): FsNode | undefined {
    const comps = splitPath(path);
    if (comps.length === 0) return this.root;
    const dir = this.resolveDir(comps.slice(0, -1), false);
    return dir?.children?.get(comps[comps.length - 1]!);
  }

  /** The node at `path` with a final symlink followed too (inside the root). */
  resolve(path: string): FsNode | undefined {
    let node = this.lookup(path);
    let current = splitPath(path);
    for (let hops = 0; node && node.type === 'symlink'; hops++) {
      if (hops >= MAX_SYMLINK_HOPS) throw new LayerlensError('limit', `too many levels of symbolic links resolving ${path}`);
      const target = node.linkTarget ?? '';
      // `..` stops at the root, as resolution inside the root must.
      current = clampJoin(current.slice(0, -1), target);
      node = current.length === 0 ? this.root : this.resolveDir(current.slice(0, -1), false)?.children?.get(current[current.length - 1]!);
    }
    return node;
  }

  private onImplied?: (n: FsNode) => void;

  /** Apply one layer's entries on top of what is there; returns what the layer changed. */
  apply(entries: LayerEntry[], layer: number): ChangeSet {
    const warnings: string[] = [];
    const byPath = new Map<string, Touch>();
    const touch = (path: string, node: FsNode | undefined): Touch => {
      let t = byPath.get(path);
      if (!t) {
        t = { before: node ? snapshot(node) : null, after: node ?? null, size: 0 };
        byPath.set(path, t);
      }
      return t;
    };
    const remove = (node: FsNode, via: Change['via']) => {
      const path = node.path;
      const t = touch(path, node);
      let paths = 1;
      let bytes = node.type === 'file' ? node.size : 0;
      for (const d of node.descendants()) {
        paths++;
        if (d.type === 'file') bytes += d.size;
        const td = byPath.get(d.path);
        if (td) td.after = null;
      }
      node.parent!.children!.delete(node.name);
      t.after = null;
      t.via = via;
      t.removedPaths = (t.removedPaths ?? 0) + paths;
      t.removedBytes = (t.removedBytes ?? 0) + bytes;
    };

    const opaques: string[][] = [];
    const whiteouts: string[][] = [];
    const adds: Array<{ e: LayerEntry; comps: string[] }> = [];
    for (const e of entries) {
      const comps = splitPath(e.path);
      const base = comps[comps.length - 1];
      if (base === OPAQUE_WHITEOUT) opaques.push(comps.slice(0, -1));
      else if (base !== undefined && base.startsWith(WHITEOUT_PREFIX)) whiteouts.push([...comps.slice(0, -1), base.slice(WHITEOUT_PREFIX.length)]);
      else adds.push({ e, comps });
    }

    // 1. Opaque directories: hide everything the lower layers had in them.
    for (const dirComps of opaques) {
      const dir = this.resolveDir(dirComps, false);
      if (!dir || !dir.children) continue;
      for (const child of [...dir.children.values()]) remove(child, 'opaque');
    }
    // 2. Whiteouts: remove the named path and all beneath it from the lower layers.
    for (const comps of whiteouts) {
      const name = comps[comps.length - 1]!;
      if (name === '' || name === '.' || name === '..') continue;
      const dir = this.resolveDir(comps.slice(0, -1), false);
      const node = dir?.children?.get(name);
      if (node) remove(node, 'whiteout');
    }
    // 3. The layer's own entries, in order.
    this.onImplied = (n) => {
      const t = touch(n.path, undefined);
      t.after = n;
    };
    try {
      for (const { e, comps } of adds) this.add(e, comps, layer, touch, remove, warnings);
    } finally {
      this.onImplied = undefined;
    }
    this.layers = Math.max(this.layers, layer + 1);

    const changes: Change[] = [];
    for (const [path, t] of byPath) {
      if (t.before === null && t.after === null) continue;
      if (t.before === null) {
        changes.push({ path, kind: 'added', reasons: [], type: typeName(t.after!), size: t.size });
      } else if (t.after === null) {
        changes.push({ path, kind: 'removed', reasons: [], type: t.before.hardlink ? 'hardlink' : t.before.type, size: 0, removedPaths: t.removedPaths, removedBytes: t.removedBytes, via: t.via });
      } else {
        const reasons = diff(t.before, t.after);
        // A directory re-emitted as the parent of a change is not itself a change.
        if (t.after.type === 'dir' && t.before.type === 'dir' && reasons.every((r) => r === 'mtime')) continue;
        const change: Change = { path, kind: 'modified', reasons, type: typeName(t.after), size: t.size };
        if (t.removedPaths) {
          change.removedPaths = t.removedPaths;
          change.removedBytes = t.removedBytes;
          change.via = t.via;
        }
        changes.push(change);
      }
    }
    changes.sort((a, b) => comparePaths(a.path, b.path));
    return { layer, changes, warnings };
  }

  private add(
    e: LayerEntry,
    comps: string[],
    layer: number,
    touch: (path: string, node: FsNode | undefined) => Touch,
    remove: (node: FsNode, via: Change['via']) => void,
    warnings: string[],
  ): void {
    if (comps.length === 0) {
      // The root itself (`./`): only its metadata.
      if (e.type === 'dir') this.setMeta(this.root, e, layer);
      return;
    }
    if (e.type === 'other') {
      warnings.push(`${e.path}: tar entry type ${JSON.stringify(e.type)} is not a filesystem object; ignored`);
      return;
    }
    const dir = this.resolveDir(comps.slice(0, -1), true, layer);
    if (!dir) {
      warnings.push(`${e.path}: a parent is not a directory; entry ignored (tar and umoci would fail here)`);
      return;
    }
    const name = comps[comps.length - 1]!;
    const existing = dir.children!.get(name);
    const path = existing ? existing.path : (dir.parent ? dir.path : '') + '/' + name;

    if (e.type === 'hardlink') {
      const target = this.lookup(e.linkname);
      if (!target || target.type === 'dir') {
        warnings.push(`${e.path}: hardlink to ${target ? 'a directory' : 'a missing path'} ${e.linkname}; entry ignored`);
        return;
      }
      if (target === existing) return; // a link to itself changes nothing
      const t = touch(path, existing);
      if (existing) this.replaceChildrenOf(existing, remove);
      const node = new FsNode(name, dir, target.type);
      node.mode = target.mode;
      node.uid = target.uid;
      node.gid = target.gid;
      node.mtime = target.mtime;
      node.xattrs = target.xattrs;
      node.linkTarget = target.type === 'symlink' ? target.linkTarget : joinPath(splitPath(e.linkname));
      node.hardlink = true;
      node.devMajor = target.devMajor;
      node.devMinor = target.devMinor;
      node.content = target.content;
      if (target.inode === 0) target.inode = this.nextInode++;
      node.inode = target.inode;
      node.layer = layer;
      node.entry = e.ordinal;
      dir.children!.set(name, node);
      t.after = node;
      return;
    }

    const t = touch(path, existing);
    if (existing && existing.type === 'dir' && e.type === 'dir') {
      this.setMeta(existing, e, layer);
      t.after = existing;
      return;
    }
    if (existing) this.replaceChildrenOf(existing, remove);
    const node = new FsNode(name, dir, e.type);
    this.setMeta(node, e, layer);
    dir.children!.set(name, node);
    t.after = node;
    if (e.type === 'file') t.size = e.size;
  }

  /** A directory about to be replaced by something else: its children go (as umoci removes them). */
  private replaceChildrenOf(existing: FsNode, remove: (node: FsNode, via: Change['via']) => void): void {
    if (existing.type === 'dir' && existing.children) for (const child of [...existing.children.values()]) remove(child, 'replaced');
  }

  private setMeta(node: FsNode, e: LayerEntry, layer: number): void {
    node.mode = e.mode;
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
      node.content = { size: e.size, sha256: e.sha256, layer, entry: e.ordinal };
      node.inode = this.nextInode++;
    }
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
