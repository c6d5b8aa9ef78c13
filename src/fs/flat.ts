// The union as one record per path, sorted bytewise as the umoci goldens are.
import type { FsNode } from './node.js';
import { comparePaths } from './path.js';
import type { Union } from './union.js';

export type FlatType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo';

export interface FlatRecord {
  path: string;
  type: FlatType;
  /** Permission bits with setuid, setgid and sticky (0o7777 at most). */
  mode: number;
  uid: number;
  gid: number;
  /** File content bytes; for a directory, the bytes of every file below it. */
  size: number;
  sha256: string | null;
  /** A symlink's target, or the path a hardlink entry linked to. */
  linkTarget: string | null;
  devMajor: number | null;
  devMinor: number | null;
  /** How many paths share this file's content (hard links). */
  links: number;
  /** For files with links > 1: the bytewise-smallest path of the group. */
  hardlinkGroup: string | null;
  /** The layer that last wrote this path (-1: a directory implied by its children). */
  layer: number;
}

/** Total file bytes below each directory, computed once. */
export function directorySizes(root: FsNode): Map<FsNode, number> {
  const sizes = new Map<FsNode, number>();
  const visit = (n: FsNode): number => {
    if (n.type !== 'dir') return n.type === 'file' ? n.size : 0;
    let total = 0;
    for (const c of n.children!.values()) total += visit(c);
    sizes.set(n, total);
    return total;
  };
  visit(root);
  return sizes;
}

export function flatten(union: Union, under?: FsNode): FlatRecord[] {
  const start = under ?? union.root;
  const dirSizes = directorySizes(start);
  const nodes: Array<[string, FsNode]> = [];
  const walk = (n: FsNode, path: string) => {
    nodes.push([path, n]);
    if (n.children) for (const [name, c] of n.children) walk(c, path === '/' ? `/${name}` : `${path}/${name}`);
  };
  walk(start, start.path);
  // Hard-link groups: paths sharing an inode.
  const groups = new Map<number, string[]>();
  for (const [path, n] of nodes) {
    if (n.inode !== 0 && n.type === 'file') {
      let g = groups.get(n.inode);
      if (!g) groups.set(n.inode, (g = []));
      g.push(path);
    }
  }
  const groupName = new Map<number, string>();
  for (const [inode, paths] of groups) if (paths.length > 1) groupName.set(inode, paths.reduce((a, b) => (comparePaths(a, b) <= 0 ? a : b)));
  const records = nodes.map(([path, n]): FlatRecord => {
    const isDev = n.type === 'char' || n.type === 'block';
    const links = n.type === 'file' && n.inode !== 0 ? groups.get(n.inode)!.length : 1;
    return {
      path,
      type: n.hardlink ? 'hardlink' : n.type,
      mode: n.mode,
      uid: n.uid,
      gid: n.gid,
      size: n.type === 'dir' ? dirSizes.get(n) ?? 0 : n.size,
      sha256: n.type === 'file' ? n.content?.sha256 ?? null : null,
      linkTarget: n.type === 'symlink' || n.hardlink ? n.linkTarget ?? null : null,
      devMajor: isDev ? n.devMajor : null,
      devMinor: isDev ? n.devMinor : null,
      links,
      hardlinkGroup: links > 1 ? groupName.get(n.inode) ?? null : null,
      layer: n.layer,
    };
  });
  records.sort((a, b) => comparePaths(a.path, b.path));
  return records;
}
