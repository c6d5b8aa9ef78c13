// A Store is the user's file seen as named members: a directory's files or a tar's members.
// The image formats (docker-archive, OCI layout) are read through it and never touch the disk
// themselves.
import type { Readable } from 'node:stream';
import type { BlobLocation, Container } from '../image/model.js';

export interface Store {
  /** What the user named, for messages. */
  readonly file: string;
  readonly container: Container;
  /** Is there a regular file (after links are followed) at this member path? */
  has(path: string): boolean;
  /** Size in bytes, or undefined when absent. */
  size(path: string): number | undefined;
  /** Read a small member whole; refuses members larger than `limit`. */
  read(path: string, limit: number): Promise<Buffer>;
  /** Stream a member. */
  open(path: string): Readable;
  /** Where a member's bytes lie, when they can be read directly (not for sparse members). */
  locate(path: string): BlobLocation | undefined;
  /** Member paths at the top level, for error messages that list what is there. */
  topLevel(): string[];
  close(): Promise<void>;
}

/**
 * Clean a member path the way archive readers do: drop `./` and leading `/`, fold `//` and `.`.
 * Returns undefined for a path that climbs out with `..`.
 */
export function cleanMemberPath(p: string): string | undefined {
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length === 0) return undefined;
      out.pop();
      continue;
    }
    out.push(part);
  }
  return out.join('/');
}
