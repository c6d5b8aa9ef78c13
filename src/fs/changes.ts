// What one layer did to the filesystem below it: each path added, modified (and how) or removed.

export type ChangeKind = 'added' | 'modified' | 'removed';

/** How a modification differs from what the lower layers had. */
export type ChangeReason = 'content' | 'size' | 'mode' | 'owner' | 'type' | 'linkTarget' | 'xattrs' | 'mtime';

export interface Change {
  path: string;
  kind: ChangeKind;
  /** For modified paths; empty for a byte-identical rewrite. */
  reasons: ChangeReason[];
  /** The node type after the change (before it, for removals). */
  type: string;
  /** Bytes this layer stores for the path (file content); 0 for removals. */
  size: number;
  /** For removals: how many paths went (the path and everything under it) and their bytes. */
  removedPaths?: number;
  removedBytes?: number;
  /** For removals: how — an explicit whiteout, an opaque directory, or replaced by a non-directory. */
  via?: 'whiteout' | 'opaque' | 'replaced';
}

/** A short label: chmod-only and chown-only copies are called out, as they waste a whole copy. */
export function describeChange(c: Change): string {
  if (c.kind !== 'modified') return c.kind;
  const r = c.reasons.filter((x) => x !== 'mtime');
  // A hard link re-emitted over the same content stores no bytes: it is not a copy.
  if (r.length === 0 && c.type === 'hardlink') return 'modified (relinked)';
  // A directory removed and made again in the layer: what it held went with it (removedPaths).
  if (r.length === 0 && c.type === 'dir' && c.removedPaths) return 'modified (recreated)';
  if (r.length === 0) return c.reasons.includes('mtime') ? 'modified (mtime only)' : 'modified (identical copy)';
  if (r.length === 1 && r[0] === 'mode') return 'modified (chmod only)';
  if (r.length === 1 && r[0] === 'owner') return 'modified (chown only)';
  if (r.length === 2 && r.includes('mode') && r.includes('owner')) return 'modified (chmod and chown only)';
  return `modified (${r.join(', ')})`;
}

export interface ChangeSet {
  layer: number;
  changes: Change[];
  /** Non-fatal oddities: a hardlink to a missing target, an entry under a regular file, ... */
  warnings: string[];
}
