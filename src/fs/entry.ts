// What a layer says about one path: a tar entry reduced to what the union needs, with the
// content's sha256 computed while the layer streamed past.
import type { EntryType } from '../layer/tar-header.js';

export interface LayerEntry {
  /** Ordinal of the entry in its layer's tar (0-based), so its content can be found again. */
  ordinal: number;
  /** The path as stored in the tar. */
  path: string;
  type: EntryType;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  /** Content size (the apparent size for sparse files). */
  size: number;
  /** The size field of the tar header, whatever the type (a sparse file's real size): what dive counts. */
  tarSize?: number;
  sha256?: string;
  /**
   * Set when the content was left unhashed (a large file read with `defer`): where the content
   * starts in the layer's uncompressed tar, to be read again if its digest is needed.
   */
  contentAt?: number;
  linkname: string;
  devMajor: number;
  devMinor: number;
  xattrs?: Map<string, Buffer>;
}
