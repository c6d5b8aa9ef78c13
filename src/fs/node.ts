// One path in a filesystem tree. Regular files that are hard links of each other share an
// `inode` number and their content fields; a node made by a tar hardlink entry also keeps the
// path it linked to.

export type NodeType = 'file' | 'dir' | 'symlink' | 'char' | 'block' | 'fifo';

export interface Content {
  size: number;
  /** sha256 of the content, hex; undefined only where it could not be computed. */
  sha256?: string;
  /** Where the bytes are: the layer and the entry's ordinal in that layer's tar. */
  layer: number;
  entry: number;
}

export class FsNode {
  children: Map<string, FsNode> | undefined;
  type: NodeType;
  mode = 0o755;
  uid = 0;
  gid = 0;
  mtime = 0;
  /** Symlink target, or for a hardlink entry the path it was linked to. */
  linkTarget?: string;
  /** Made by a tar hardlink entry. */
  hardlink = false;
  devMajor = 0;
  devMinor = 0;
  xattrs?: Map<string, Buffer>;
  /** Regular files: the content, shared between hard links. */
  content?: Content;
  inode = 0;
  /** The layer and entry that last wrote this node (-1 for directories layerlens had to imply). */
  layer = -1;
  entry = -1;

  constructor(
    public name: string,
    public parent: FsNode | null,
    type: NodeType,
  ) {
    this.type = type;
    if (type === 'dir') this.children = new Map();
  }

  get path(): string {
    const parts: string[] = [];
    for (let n: FsNode | null = this; n && n.parent; n = n.parent) parts.push(n.name);
    return '/' + parts.reverse().join('/');
  }

  get size(): number {
    return this.content?.size ?? 0;
  }

  /** Every node below this one, depth first. */
  *descendants(): Generator<FsNode> {
    if (!this.children) return;
    for (const child of this.children.values()) {
      yield child;
      yield* child.descendants();
    }
  }
}
