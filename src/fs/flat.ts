// The union as one record per path, sorted bytewise as the umoci goldens are.
import type { FsNode } from './node.js';
import { childPath, comparePaths, sortByPath } from './path.js';
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

/**
 * Hard-link groups of the whole union: each inode shared by more than one path, with those
 * paths sorted bytewise (the first names the group, as `hardlink_group` of the goldens does).
 */
export function hardlinkGroups(root: FsNode): Map<number, string[]> {
  // Two paths share an inode only through a hard link entry, and the node it made says so: the
  // inodes of those first (usually none, or a few), then a count of their paths, so that paths
  // are kept only for the inodes that have more than one (a count of every file's inode was a
  // map entry per file of the image).
  const linked = new Set<number>();
  const findLinks = (n: FsNode) => {
    if (n.type === 'file' && n.hardlink && n.inode !== 0) linked.add(n.inode);
    if (n.children) n.children.forEach(findLinks);
  };
  findLinks(root);
  const groups = new Map<number, string[]>();
  if (linked.size === 0) return groups;
  const counts = new Map<number, number>();
  const count = (n: FsNode) => {
    if (n.type === 'file' && linked.has(n.inode)) counts.set(n.inode, (counts.get(n.inode) ?? 0) + 1);
    if (n.children) n.children.forEach(count);
  };
  count(root);
  for (const [inode, k] of counts) if (k > 1) groups.set(inode, []);
  if (groups.size === 0) return groups;
  const collect = (n: FsNode, path: string) => {
    if (n.type === 'file') groups.get(n.inode)?.push(path);
    if (n.children) for (const [name, c] of n.children) collect(c, childPath(path, name));
  };
  collect(root, '/');
  for (const paths of groups.values()) paths.sort(comparePaths);
  return groups;
}

/**
 * How a node is listed: a regular file made by a hardlink entry is a `hardlink` only while it
 * still shares its content with another path (its target may have been removed or replaced since);
 * a hard link to a symlink or a device is another name of that symlink or device.
 */
export function listedType(n: FsNode, groups: Map<number, string[]>): FlatType {
  return n.hardlink && n.type === 'file' && groups.has(n.inode) ? 'hardlink' : n.type;
}

/** A symlink's target; for a hard link, the path it was linked to (or, if that path now holds something else, another name of its content). */
export function listedLinkTarget(n: FsNode, path: string, groups: Map<number, string[]>): string | null {
  if (n.type === 'symlink') return n.linkTarget ?? null;
  const group = n.type === 'file' && n.hardlink ? groups.get(n.inode) : undefined;
  if (!group) return null;
  return n.linkTarget !== undefined && n.linkTarget !== path && group.includes(n.linkTarget) ? n.linkTarget : group.find((p) => p !== path) ?? null;
}

/** `start` and every node below it, each with its path, depth first. */
export function pathsBelow(start: FsNode): Array<[string, FsNode]> {
  const nodes: Array<[string, FsNode]> = [];
  const walk = (n: FsNode, path: string) => {
    nodes.push([path, n]);
    if (n.children) for (const [name, c] of n.children) walk(c, childPath(path, name));
  };
  walk(start, start.path);
  return nodes;
}

export function flatten(union: Union, under?: FsNode): FlatRecord[] {
  const start = under ?? union.root;
  const dirSizes = directorySizes(start);
  const nodes = pathsBelow(start);
  // Hard-link groups count every name in the image, not only those under `under`.
  const groups = hardlinkGroups(union.root);
  const records = nodes.map(([path, n]): FlatRecord => {
    const isDev = n.type === 'char' || n.type === 'block';
    const group = n.type === 'file' ? groups.get(n.inode) : undefined;
    return {
      path,
      type: listedType(n, groups),
      mode: n.mode,
      uid: n.uid,
      gid: n.gid,
      size: n.type === 'dir' ? dirSizes.get(n) ?? 0 : n.size,
      sha256: n.type === 'file' ? n.content?.sha256 ?? null : null,
      linkTarget: listedLinkTarget(n, path, groups),
      devMajor: isDev ? n.devMajor : null,
      devMinor: isDev ? n.devMinor : null,
      links: group?.length ?? 1,
      hardlinkGroup: group?.[0] ?? null,
      // A directory no entry wrote (implied by its children) has no layer.
      layer: n.type === 'dir' && n.entry === -1 ? -1 : n.layer,
    };
  });
  return sortByPath(records);
}
