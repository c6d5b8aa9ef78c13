// A layer's entries as the union reads them: each tar entry reduced to a LayerEntry, and each
// regular file's content hashed as it streams past.
import crypto, { createHash, type Hash } from 'node:crypto';
import type { Layer } from '../image/model.js';
import { scanLayer, type LayerScan, type ScanOptions } from '../layer/scan.js';
import type { TarEntry } from '../layer/tar-reader.js';
import type { LayerEntry } from './entry.js';

// ('binary' is Node's other name for latin1.)
const EMPTY_SHA256 = createHash('sha256').digest('binary');

/**
 * sha256 of one buffer without a hash object (crypto.hash, Node 20.12 and later), as a latin1
 * string: a Buffer result costs an ArrayBuffer of its own per file, twice the time of the hash of
 * a small file (2.6 against 1.0 us a call on 300 bytes).
 */
const oneShotSha256: (data: Buffer) => string =
  typeof (crypto as { hash?: unknown }).hash === 'function'
    ? (data) => (crypto as unknown as { hash(alg: string, data: Buffer, enc: 'latin1'): string }).hash('sha256', data, 'latin1')
    : (data) => createHash('sha256').update(data).digest('binary');

/**
 * What a visitor wants of a regular file's content: the digest when it is known (its 32 bytes
 * as a latin1 string, the form the union keeps), and optionally the bytes themselves as they
 * stream past (for the few files a command keeps).
 */
export type EntryVisit = ((sha256: string | undefined) => void) | ContentSink | void;

/** A regular file's content as it streams past, then its sha256 (undefined if not hashed). */
export interface ContentSink {
  data(chunk: Buffer): void;
  done(sha256: string | undefined): void;
}

/**
 * A regular file's content, copied as it streams past (a reader's buffers are reused) into one
 * buffer of the file's size: a copy each, not a copy per chunk and another to join them.
 */
export class ContentCopy {
  private readonly bytes: Uint8Array;
  private at = 0;

  constructor(size: number) {
    this.bytes = new Uint8Array(size);
  }

  data(chunk: Uint8Array): void {
    const n = Math.min(chunk.length, this.bytes.length - this.at);
    this.bytes.set(n === chunk.length ? chunk : chunk.subarray(0, n), this.at);
    this.at += n;
  }

  /** What was copied (shorter than the size where the content stopped short), in a buffer of its own. */
  content(): Uint8Array {
    return this.at === this.bytes.length ? this.bytes : this.bytes.slice(0, this.at);
  }

  /** content() as a Buffer (a view of it). */
  buffer(): Buffer {
    const c = this.content();
    return Buffer.from(c.buffer, c.byteOffset, c.byteLength);
  }
}

/**
 * Scan one layer, handing each entry to `visit` as it streams past. Each regular file's
 * content is hashed on the way; `visit` may return a function that receives the digest, or a
 * sink that also receives the content. With `defer`, large files are not hashed: the entry says
 * where the content is (`contentAt`) and its digest is given as undefined; with `hashFiles`
 * false, no file is (a sink that wants the content still gets it, hashed).
 */
export async function scanLayerEntries(
  layer: Layer,
  verify: boolean,
  file: string | undefined,
  visit: (e: LayerEntry) => EntryVisit,
  scan: Pick<ScanOptions, 'limits' | 'budget' | 'onProgress' | 'readAhead' | 'hashBlob' | 'inflateHere'> & {
    /** Give each entry its hex sha256 as well (default true). */
    hex?: boolean;
    /**
     * Leave large files unhashed where the blob lies in a file, to be read again: DEFER_MIN
     * bytes or more in an uncompressed layer (read again by offset), DEFER_MIN_COMPRESSED in a
     * compressed one (the layer decompressed again). A comparison that needs one of their
     * digests computes it later (fs/deferred.ts). The tar, and so the diff_id, is hashed all
     * the same.
     */
    defer?: boolean;
    /**
     * Hash regular files' content at all (default true). False: no file gets a digest, for
     * views that show none and compare none (`tree` without --flat or --changes, `cat`,
     * `export`); the tar, and so the diff_id, is hashed all the same.
     */
    hashFiles?: boolean;
  } = {},
): Promise<LayerScan> {
  // The hex digest on each entry is for callers that compare entries; the union keeps raw bytes.
  const hex = scan.hex ?? true;
  const hashFiles = scan.hashFiles ?? true;
  let ordinal = 0;
  // Files this large are left unhashed, when deferring.
  let deferMin = Infinity;
  const hasher = new FileHasher(hex);
  return scanLayer(layer, {
    verify,
    file,
    limits: scan.limits,
    budget: scan.budget,
    onProgress: scan.onProgress,
    readAhead: scan.readAhead,
    hashBlob: scan.hashBlob,
    inflateHere: scan.inflateHere,
    onCompression: (c) => {
      // Only a blob that lies in a file can be read again.
      deferMin = !scan.defer || !layer.locate?.() ? Infinity : c === 'none' ? DEFER_MIN : DEFER_MIN_COMPRESSED;
    },
    onEntry: (t: TarEntry) => {
      const e: LayerEntry = {
        ordinal: ordinal++,
        path: t.path,
        type: t.type,
        mode: t.mode,
        uid: t.uid,
        gid: t.gid,
        mtime: t.mtime,
        size: t.type === 'file' ? t.size : 0,
        linkname: t.linkname,
        devMajor: t.devMajor,
        devMinor: t.devMinor,
        xattrs: t.xattrs,
        tarSize: t.size,
      };
      // A sparse file's content is not one run of stored bytes: always hashed here.
      if (t.type === 'file' && t.size >= deferMin && !t.sparse) e.contentAt = t.dataOffset;
      const visited = visit(e);
      if (t.type !== 'file') return;
      const hashed = typeof visited === 'function' ? visited : visited?.done;
      const keep = typeof visited === 'object' ? visited : undefined;
      if (!hashFiles && !keep) {
        hashed?.(undefined);
        return;
      }
      if (t.size === 0) {
        if (hex) e.sha256 = toHex(EMPTY_SHA256);
        hashed?.(EMPTY_SHA256);
        return;
      }
      if (e.contentAt !== undefined && !keep) {
        hashed?.(undefined);
        return;
      }
      return hasher.start(e, hashed, keep);
    },
  });
}

/**
 * The sink that hashes a regular file's content as it streams past, one per scan and reused from
 * file to file (a file's content has ended before the next entry starts): a closure or two and an
 * object per file otherwise. A sparse file's content reaches it expanded (holes as zeros), so its
 * sha256 is that of the file as extracted. Most files arrive in one piece: hashed in one call,
 * without a hash object.
 */
class FileHasher {
  private entry: LayerEntry | undefined = undefined;
  private hashed: ((sha256: string | undefined) => void) | undefined = undefined;
  private keep: { data(chunk: Buffer): void } | undefined = undefined;
  private hash: Hash | undefined = undefined;
  private whole: string | undefined = undefined;

  constructor(private readonly hex: boolean) {}

  start(e: LayerEntry, hashed: ((sha256: string | undefined) => void) | undefined, keep: { data(chunk: Buffer): void } | undefined): this {
    this.entry = e;
    this.hashed = hashed;
    this.keep = keep;
    this.hash = undefined;
    this.whole = undefined;
    return this;
  }

  data(chunk: Buffer): void {
    if (this.hash === undefined && this.whole === undefined && chunk.length === this.entry!.size) this.whole = oneShotSha256(chunk);
    else (this.hash ??= createHash('sha256')).update(chunk);
    this.keep?.data(chunk);
  }

  end(): void {
    const digest = this.whole ?? (this.hash ?? createHash('sha256')).digest('binary');
    const e = this.entry!;
    const hashed = this.hashed;
    // Nothing of this file is held past it.
    this.entry = undefined;
    this.hashed = undefined;
    this.keep = undefined;
    this.hash = undefined;
    this.whole = undefined;
    if (this.hex) e.sha256 = toHex(digest);
    hashed?.(digest);
  }
}

function toHex(latin1: string): string {
  return Buffer.from(latin1, 'latin1').toString('hex');
}

/**
 * Files this large are left unhashed when deferring, in an uncompressed layer: most of an image's
 * bytes, few of its files (debian-big: 4,934 of 29,427 files, 95% of the bytes; afterwards 556
 * of them, 46 MB, needed hashing), and the rare one a comparison needs costs one read by offset.
 */
export const DEFER_MIN = 16 * 1024;
/**
 * The same in a compressed layer, where a digest needed afterwards costs decompressing the layer
 * again: files this large hold half of debian-big's bytes (39 files), and none of them shares
 * its size with another.
 */
export const DEFER_MIN_COMPRESSED = 4 * 1024 * 1024;

/** Scan one layer and return all its entries, each regular file's content hashed in passing. */
export async function readLayerEntries(layer: Layer, verify: boolean, file?: string): Promise<{ scan: LayerScan; entries: LayerEntry[] }> {
  const entries: LayerEntry[] = [];
  const scan = await scanLayerEntries(layer, verify, file, (e) => {
    entries.push(e);
  });
  return { scan, entries };
}

