// One path in a filesystem tree, kept small because an image can hold hundreds of thousands:
// the common fields are plain numbers and strings on the node, the rare ones (link targets,
// device numbers, xattrs, a hard link's content source) live in `extra`, and the sha256 is
// kept as 32 raw bytes in a latin1 string rather than 64 hex characters.
// Regular files that are hard links of each other share an `inode` number and their content
// fields; a node made by a tar hardlink entry also keeps the path it linked to.

export type NodeType = 'file' | 'dir' | 'symlink' | 'char' | 'block' | 'fifo';

export interface Content {
  size: number;
  /** sha256 of the content, hex; undefined only where it could not be computed. */
  sha256?: string;
  /** Where the bytes are: the layer and the entry's ordinal in that layer's tar. */
  layer: number;
  entry: number;
}

interface Extra {
  linkTarget?: string;
  devMajor?: number;
  devMinor?: number;
  xattrs?: Map<string, Buffer>;
  /** A hard link's content lives where its target's was written. */
  dataLayer?: number;
  dataEntry?: number;
}

export class FsNode {
  children: Map<string, FsNode> | undefined = undefined;
  type: NodeType;
  mode = 0o755;
  uid = 0;
  gid = 0;
  mtime = 0;
  /** Regular files: content bytes. */
  size = 0;
  /** Regular files: sha256 as 32 raw bytes (latin1), or undefined. */
  digest: string | undefined = undefined;
  inode = 0;
  /** The layer and entry that last wrote this node (-1 for directories implied by their children). */
  layer = -1;
  entry = -1;
  /** Made by a tar hardlink entry. */
  hardlink = false;
  private extra: Extra | undefined = undefined;

  constructor(
    public name: string,
    public parent: FsNode | null,
    type: NodeType,
  ) {
    this.type = type;
    if (type === 'dir') this.children = new Map();
  }

  /**
   * A new node, as `new FsNode(name, parent, type)` makes it, but as an object literal: V8
   * handles the two differently (a literal's allocation is tracked to the place that made it),
   * and measured on 318,000 tar entries the literal's nodes left far less in the old generation
   * (sampled: 29 MB of nodes reaching it against 51 MB made with `new`; old space at its peak
   * 76-77 MiB against 92-97; 20 fewer collections of the young generation). Every node of a
   * tree is made here, so they all share one shape.
   */
  static make(name: string, parent: FsNode | null, type: NodeType): FsNode {
    return {
      __proto__: FsNode.prototype,
      children: type === 'dir' ? new Map<string, FsNode>() : undefined,
      type,
      mode: 0o755,
      uid: 0,
      gid: 0,
      mtime: 0,
      size: 0,
      digest: undefined,
      inode: 0,
      layer: -1,
      entry: -1,
      hardlink: false,
      extra: undefined,
      name,
      parent,
    } as unknown as FsNode;
  }

  private more(): Extra {
    return (this.extra ??= {});
  }

  /** Symlink target, or for a hardlink entry the path it was linked to. */
  get linkTarget(): string | undefined {
    return this.extra?.linkTarget;
  }
  set linkTarget(v: string | undefined) {
    if (v !== undefined || this.extra) this.more().linkTarget = v;
  }

  get devMajor(): number {
    return this.extra?.devMajor ?? 0;
  }
  set devMajor(v: number) {
    if (v || this.extra) this.more().devMajor = v;
  }

  get devMinor(): number {
    return this.extra?.devMinor ?? 0;
  }
  set devMinor(v: number) {
    if (v || this.extra) this.more().devMinor = v;
  }

  get xattrs(): Map<string, Buffer> | undefined {
    return this.extra?.xattrs;
  }
  set xattrs(v: Map<string, Buffer> | undefined) {
    if (v !== undefined || this.extra) this.more().xattrs = v;
  }

  /** sha256 of a regular file's content, hex. */
  get sha256(): string | undefined {
    return this.digest === undefined ? undefined : Buffer.from(this.digest, 'latin1').toString('hex');
  }

  /** A regular file's content: size, sha256 and where its bytes are. Undefined for other types. */
  get content(): Content | undefined {
    if (this.type !== 'file') return undefined;
    return { size: this.size, sha256: this.sha256, layer: this.dataLayer, entry: this.dataEntry };
  }

  /** The layer holding a regular file's bytes: its own, or a hard link's target's. */
  get dataLayer(): number {
    return this.hardlink && this.extra?.dataLayer !== undefined ? this.extra.dataLayer : this.layer;
  }

  /** The ordinal of the entry holding a regular file's bytes in `dataLayer`. */
  get dataEntry(): number {
    return this.hardlink && this.extra?.dataLayer !== undefined ? this.extra.dataEntry! : this.entry;
  }
  set content(c: Content | undefined) {
    this.size = c?.size ?? 0;
    this.digest = c?.sha256 === undefined ? undefined : Buffer.from(c.sha256, 'hex').toString('latin1');
    if (this.hardlink && c) {
      const x = this.more();
      x.dataLayer = c.layer;
      x.dataEntry = c.entry;
    }
  }

  /** Content copied from another node (a hard link shares its target's bytes). */
  shareContent(from: FsNode): void {
    this.size = from.size;
    this.digest = from.digest;
    const c = from.content;
    if (c) {
      const x = this.more();
      x.dataLayer = c.layer;
      x.dataEntry = c.entry;
    }
  }

  /**
   * Make this node new again as a non-directory of `type`, as a new node of its name and parent
   * would be: a lower layer's file written over by a later layer is renewed in place (see
   * union.ts), so that an image that overwrites 100,000 files does not leave as many nodes behind
   * for a full collection to find.
   */
  renew(type: Exclude<NodeType, 'dir'>): void {
    this.children = undefined;
    this.type = type;
    this.mode = 0o755;
    this.uid = 0;
    this.gid = 0;
    this.mtime = 0;
    this.size = 0;
    this.digest = undefined;
    this.inode = 0;
    this.layer = -1;
    this.entry = -1;
    this.hardlink = false;
    this.extra = undefined;
  }

  /** A copy of this node and everything below it, attached to `parent` (a union's clone). */
  cloneInto(parent: FsNode | null): FsNode {
    const n = this.copyTo(FsNode.make(this.name, parent, this.type));
    if (this.children) for (const [name, c] of this.children) n.children!.set(name, c.cloneInto(n));
    return n;
  }

  /**
   * A copy of a non-directory as it stands, in its place but not in the tree: what a watcher is
   * shown of a node about to be renewed. Made with `new`, apart from the tree's nodes (make()),
   * since it dies at once.
   */
  detachedCopy(): FsNode {
    return this.copyTo(new FsNode(this.name, this.parent, this.type));
  }

  private copyTo(n: FsNode): FsNode {
    n.mode = this.mode;
    n.uid = this.uid;
    n.gid = this.gid;
    n.mtime = this.mtime;
    n.size = this.size;
    n.digest = this.digest;
    n.inode = this.inode;
    n.layer = this.layer;
    n.entry = this.entry;
    n.hardlink = this.hardlink;
    // xattr maps are replaced, never changed in place, so they can be shared.
    if (this.extra) n.extra = { ...this.extra };
    return n;
  }

  get path(): string {
    const parts: string[] = [];
    for (let n: FsNode | null = this; n && n.parent; n = n.parent) parts.push(n.name);
    return '/' + parts.reverse().join('/');
  }

  /** Every node below this one, depth first. */
  *descendants(): Generator<FsNode> {
    // One generator and a stack of the directories' iterators: a generator per level would hand
    // each node up through every level above it.
    if (!this.children) return;
    const stack: Array<Iterator<FsNode>> = [this.children.values()];
    while (stack.length > 0) {
      const next = stack[stack.length - 1]!.next();
      if (next.done) {
        stack.pop();
        continue;
      }
      yield next.value;
      if (next.value.children) stack.push(next.value.children.values());
    }
  }
}
