// A view of the union for display: one subtree, cut at a depth, sorted by name or size, with
// each path marked by what a layer did to it (removed paths shown where they were).
import { describeChange, type ChangeSet } from '../fs/changes.js';
import { directorySizes, hardlinkGroups, listedLinkTarget, listedType } from '../fs/flat.js';
import type { FsNode } from '../fs/node.js';
import { childPath, comparePaths } from '../fs/path.js';

export interface TreeNodeView {
  name: string;
  path: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  /** File bytes; for a directory, the bytes of every file below it. */
  size: number;
  linkTarget: string | null;
  /** With changes: `added`, `modified (chmod only)`, `removed`, ... */
  change?: string;
  children?: TreeNodeView[];
  /** Children left out by the depth limit. */
  truncated?: number;
}

export interface TreeViewOptions {
  depth?: number;
  sort?: 'name' | 'size';
  changes?: ChangeSet;
}

export function treeView(start: FsNode, options: TreeViewOptions = {}): TreeNodeView {
  const sizes = directorySizes(start);
  let root = start;
  while (root.parent) root = root.parent;
  // Hard-link groups count every name in the image, not only those under `start`.
  const groups = hardlinkGroups(root);
  const changeByPath = new Map<string, string>();
  const removedByParent = new Map<string, TreeNodeView[]>();
  if (options.changes) {
    for (const c of options.changes.changes) {
      changeByPath.set(c.path, describeChange(c));
      if (c.kind === 'removed') {
        const parent = c.path.slice(0, c.path.lastIndexOf('/')) || '/';
        const list = removedByParent.get(parent) ?? [];
        list.push({ name: c.path.slice(c.path.lastIndexOf('/') + 1), path: c.path, type: c.type, mode: 0, uid: 0, gid: 0, size: c.removedBytes ?? 0, linkTarget: null, change: 'removed' });
        removedByParent.set(parent, list);
      }
    }
  }
  const sortKids = (kids: TreeNodeView[]) =>
    options.sort === 'size' ? kids.sort((a, b) => b.size - a.size || comparePaths(a.name, b.name)) : kids.sort((a, b) => comparePaths(a.name, b.name));
  const build = (n: FsNode, path: string, depth: number): TreeNodeView => {
    const v: TreeNodeView = {
      name: n.name || '/',
      path,
      type: listedType(n, groups),
      mode: n.mode,
      uid: n.uid,
      gid: n.gid,
      size: n.type === 'dir' ? sizes.get(n) ?? 0 : n.size,
      linkTarget: listedLinkTarget(n, path, groups),
    };
    const change = changeByPath.get(path);
    if (change) v.change = change;
    if (n.type === 'dir') {
      const removed = removedByParent.get(path) ?? [];
      const count = n.children!.size + removed.length;
      if (options.depth !== undefined && depth >= options.depth) {
        if (count > 0) v.truncated = count;
      } else {
        const kids: TreeNodeView[] = [];
        for (const [name, c] of n.children!) kids.push(build(c, childPath(path, name), depth + 1));
        kids.push(...removed);
        v.children = sortKids(kids);
      }
    }
    return v;
  };
  return build(start, start.path, 0);
}
