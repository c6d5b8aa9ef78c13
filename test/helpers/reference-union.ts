// A reference model of layer application, for differential tests: a deliberately naive applier
// that keeps the filesystem as one flat map from absolute path to node and applies each layer's
// entries in tar order, written from the rules (OCI image-spec "Applying Changesets" and the
// project's pinned choices in README "Looking inside"), not from src/fs. It reads abstract
// entries, not tars, so the tar reader is not under test here either.
//
// Two flavours of one rule, because umoci 0.4.7 and the project part ways there:
// - 'pinned' (what layerlens promises): a whiteout or opaque marker never hides an entry of its
//   own layer; a lower directory kept only because this layer put entries inside it becomes a
//   fresh directory (0755, root), exactly as if the whiteout had come first in the tar and the
//   entries had then implied the directory. The result does not depend on the order of the tar.
// - 'umoci': umoci keeps such a directory with its lower metadata (it only skips removing paths
//   it has extracted in this layer and their ancestors); and a directory umoci makes for a
//   missing parent inherits, as mkdir(2) does, the group and the setgid bit of a setgid parent.
// The model also says when umoci would refuse a layer (an entry under a non-directory, a hard
// link to a missing path, to a directory, to itself, or to a target reached through the path the
// link replaces), which layerlens reads on with a warning.
import { createHash } from 'node:crypto';

export type RefEntry =
  | { kind: 'file'; name: string; content: string; mode: number; uid: number; gid: number }
  | { kind: 'dir'; name: string; mode: number; uid: number; gid: number }
  | { kind: 'symlink'; name: string; target: string }
  | { kind: 'hardlink'; name: string; target: string }
  | { kind: 'char' | 'block'; name: string; major: number; minor: number; mode: number; uid: number; gid: number }
  | { kind: 'fifo'; name: string; mode: number; uid: number; gid: number };

type NodeType = 'f' | 'd' | 'l' | 'c' | 'b' | 'p';

interface RefNode {
  type: NodeType;
  mode: number;
  uid: number;
  gid: number;
  /** Regular files: the content; shared (same object) by the names of one inode. */
  inode?: { content: string };
  target?: string;
  dev?: [number, number];
  /** The layer that wrote the node (or made it as a missing parent). */
  layer: number;
}

export type Flavour = 'pinned' | 'umoci';

export class ReferenceError extends Error {}

export interface ReferenceResult {
  /** rootfs.tsv lines (no header), as list-rootfs.sh prints them. */
  lines: string[];
  /** Why umoci 0.4.7 would refuse these layers (empty when it would unpack them). */
  umociRefuses: string[];
}

const MAX_HOPS = 40;

/** `./a//b/../c` → ['a', 'c']; `..` stops at the root. The plain form of splitPath, kept as a reference. */
export function clean(p: string): string[] {
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return out;
}

const key = (parts: string[]) => '/' + parts.join('/');

/** Is `p` the path walked as absent, or below it? */
const hidden = (p: string, absent: string | undefined) => absent !== undefined && (p === absent || p.startsWith(absent + '/'));

export class ReferenceUnion {
  private readonly nodes = new Map<string, RefNode>([['/', { type: 'd', mode: 0o755, uid: 0, gid: 0, layer: -1 }]]);
  readonly umociRefuses: string[] = [];

  constructor(private readonly flavour: Flavour) {}

  /**
   * Walk the directories named by `parts`, following symlinks, as securejoin does: a missing
   * component, or one that is not a directory, is taken as a plain name (a later `..` may leave
   * it again), and only what the walk ends in is made, with `create`. Undefined where the walk
   * ends under a non-directory, or (without `create`) where the directory is not there.
   */
  private walk(parts: string[], create: boolean, layer: number, absent?: string): string[] | undefined {
    let cur: string[] = [];
    const todo = [...parts];
    let hops = 0;
    while (todo.length) {
      const name = todo.shift()!;
      if (name === '' || name === '.') continue;
      if (name === '..') {
        cur = cur.slice(0, -1);
        continue;
      }
      const next = [...cur, name];
      const node = hidden(key(next), absent) ? undefined : this.nodes.get(key(next));
      if (node?.type === 'l') {
        if (++hops > MAX_HOPS) throw new ReferenceError(`symlink loop resolving ${key(parts)}`);
        if (node.target!.startsWith('/')) cur = [];
        todo.unshift(...node.target!.split('/'));
        continue;
      }
      // A file on the way is a name too (securejoin only looks for symlinks): a later `..` may
      // leave it. Where the walk ends, every component must be a directory.
      cur = next;
    }
    for (let i = 1; i <= cur.length; i++) {
      const p = key(cur.slice(0, i));
      const there = hidden(p, absent) ? undefined : this.nodes.get(p);
      if (there?.type === 'd') continue;
      if (there || !create) return undefined;
      const parent = this.nodes.get(key(cur.slice(0, i - 1)))!;
      const setgid = this.flavour === 'umoci' && (parent.mode & 0o2000) !== 0;
      this.nodes.set(p, { type: 'd', mode: setgid ? 0o2755 : 0o755, uid: 0, gid: setgid ? parent.gid : 0, layer });
    }
    return cur;
  }

  private below(path: string): string[] {
    const prefix = path === '/' ? '/' : path + '/';
    return [...this.nodes.keys()].filter((k) => k !== path && k.startsWith(prefix));
  }

  private removeTree(path: string): void {
    for (const k of this.below(path)) this.nodes.delete(k);
    this.nodes.delete(path);
  }

  /** A whiteout's work at `path`: everything lower goes; what this layer wrote stays. */
  private purge(path: string, layer: number): void {
    const node = this.nodes.get(path);
    if (!node) return;
    const mine = (k: string) => this.nodes.get(k)!.layer === layer;
    if (node.layer !== layer && !this.below(path).some(mine)) {
      this.removeTree(path);
      return;
    }
    const children = this.below(path).filter((k) => !k.slice(path.length + 1).includes('/'));
    for (const c of children) this.purge(c, layer);
    if (node.layer !== layer && this.flavour === 'pinned') Object.assign(node, { type: 'd', mode: 0o755, uid: 0, gid: 0, layer });
  }

  apply(layer: number, entries: RefEntry[]): void {
    for (const e of entries) this.add(layer, e);
  }

  /** Apply one entry; false when umoci would refuse it (the model then leaves it out, as layerlens does). */
  applyOne(layer: number, e: RefEntry): boolean {
    const before = this.umociRefuses.length;
    this.add(layer, e);
    return this.umociRefuses.length === before;
  }

  private add(layer: number, e: RefEntry): void {
    const parts = clean(e.name);
    const base = parts[parts.length - 1];
    if (base === '.wh..wh..opq') {
      const dir = this.walk(parts.slice(0, -1), false, layer);
      if (!dir) return;
      const d = key(dir);
      for (const c of this.below(d).filter((k) => !k.slice(d === '/' ? 1 : d.length + 1).includes('/'))) this.purge(c, layer);
      return;
    }
    if (base !== undefined && base.startsWith('.wh.')) {
      const name = base.slice(4);
      if (name === '' || name === '.' || name === '..') return;
      const dir = this.walk(parts.slice(0, -1), false, layer);
      if (dir) this.purge(key([...dir, name]), layer);
      return;
    }
    if (parts.length === 0) {
      if (e.kind === 'dir') Object.assign(this.nodes.get('/')!, { mode: e.mode, uid: e.uid, gid: e.gid });
      return;
    }
    const dir = this.walk(parts.slice(0, -1), true, layer);
    if (!dir) {
      this.umociRefuses.push(`${e.name}: a parent is not a directory`);
      return;
    }
    const path = key([...dir, base!]);
    const existing = this.nodes.get(path);
    if (e.kind === 'hardlink') {
      const tparts = clean(e.target);
      const tdir = tparts.length ? this.walk(tparts.slice(0, -1), false, layer) : undefined;
      const tpath = tdir && key([...tdir, tparts[tparts.length - 1]!]);
      const target = tpath ? this.nodes.get(tpath) : undefined;
      if (!target || target.type === 'd') {
        this.umociRefuses.push(`${e.name}: hard link to ${target ? 'a directory' : 'a missing path'}`);
        return;
      }
      if (tpath === path) {
        this.umociRefuses.push(`${e.name}: hard link to itself`);
        return;
      }
      if (existing) {
        // The link's path is cleared first: what was reached through it is gone.
        const again = this.walk(tparts.slice(0, -1), false, layer, path);
        const apath = again && key([...again, tparts[tparts.length - 1]!]);
        if (!apath || apath === path || apath.startsWith(path + '/') || this.nodes.get(apath) !== target) {
          this.umociRefuses.push(`${e.name}: hard link reached through the path it replaces`);
          return;
        }
      }
      if (existing) this.removeTree(path);
      this.nodes.set(path, { ...target, layer });
      return;
    }
    if (existing?.type === 'd' && e.kind === 'dir') {
      Object.assign(existing, { mode: e.mode, uid: e.uid, gid: e.gid, layer });
      return;
    }
    if (existing) this.removeTree(path);
    switch (e.kind) {
      case 'file':
        this.nodes.set(path, { type: 'f', mode: e.mode, uid: e.uid, gid: e.gid, inode: { content: e.content }, layer });
        break;
      case 'dir':
        this.nodes.set(path, { type: 'd', mode: e.mode, uid: e.uid, gid: e.gid, layer });
        break;
      case 'symlink':
        this.nodes.set(path, { type: 'l', mode: 0o777, uid: 0, gid: 0, target: e.target, layer });
        break;
      case 'char':
      case 'block':
        this.nodes.set(path, { type: e.kind === 'char' ? 'c' : 'b', mode: e.mode, uid: e.uid, gid: e.gid, dev: [e.major, e.minor], layer });
        break;
      case 'fifo':
        this.nodes.set(path, { type: 'p', mode: e.mode, uid: e.uid, gid: e.gid, layer });
        break;
    }
  }

  /** The filesystem as list-rootfs.sh prints it (without its header line). */
  lines(): string[] {
    const byInode = new Map<object, string[]>();
    for (const [p, n] of this.nodes) if (n.inode) byInode.set(n.inode, [...(byInode.get(n.inode) ?? []), p]);
    const sha = (s: string) => createHash('sha256').update(s).digest('hex');
    const out = [...this.nodes].map(([p, n]) => {
      const group = n.inode ? byInode.get(n.inode)! : [];
      const link = n.type === 'l' ? n.target : n.dev ? n.dev.join(',') : '-';
      return [
        p,
        n.type,
        n.mode.toString(8).padStart(4, '0'),
        n.uid,
        n.gid,
        n.type === 'f' ? Buffer.byteLength(n.inode!.content) : '-',
        n.type === 'f' ? sha(n.inode!.content) : '-',
        link,
        group.length > 1 ? group.sort(bytewise)[0] : '-',
      ].join('\t');
    });
    return out.sort((a, b) => bytewise(a.split('\t')[0]!, b.split('\t')[0]!));
  }
}

export function bytewise(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** Apply the layers in order; a symlink loop on the way is a ReferenceError. */
export function referenceUnion(layers: RefEntry[][], flavour: Flavour): ReferenceResult {
  const u = new ReferenceUnion(flavour);
  layers.forEach((entries, i) => u.apply(i, entries));
  return { lines: u.lines(), umociRefuses: u.umociRefuses };
}

/**
 * The layers without the entries umoci would refuse (an entry under a non-directory, a hard link
 * to nothing, to a directory, to itself or through the path it replaces), so that umoci unpacks
 * them and there is something to compare. A symlink loop is kept (a ReferenceError stops here).
 */
export function withoutUmociRefusals(layers: RefEntry[][]): RefEntry[][] {
  const u = new ReferenceUnion('pinned');
  try {
    return layers.map((entries, i) => entries.filter((e) => u.applyOne(i, e)));
  } catch (e) {
    if (e instanceof ReferenceError) return layers;
    throw e;
  }
}
