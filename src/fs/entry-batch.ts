// A layer's entries, with their content digests, packed for the trip from the thread that read
// the layer to the thread that builds the union: numbers in one Float64Array, names in one byte
// array (a byte per character where every name of the batch allows, else UTF-16), digests in
// another; all three are transferred, not copied. Structured-cloning
// an object per entry would cost a microsecond or more each. The receiving thread decodes a
// batch's names in one call and cuts each with slice() (forEachEntry), so a name the union keeps
// may refer to the batch's string, as it referred to its entry's whole path when each path was
// decoded on its own.
import type { EntryType } from '../layer/tar-header.js';
import type { LayerEntry } from './entry.js';

const TYPES: EntryType[] = ['file', 'hardlink', 'symlink', 'char', 'block', 'dir', 'fifo', 'other'];
const TYPE_CODE = new Map(TYPES.map((t, i) => [t, i]));

/** Numbers per entry: type, mode, uid, gid, mtime, size, tarSize, devMajor, devMinor, ordinal, path length, link length, flags, contentAt. */
const SLOTS = 14;
const HAS_DIGEST = 1;
const HAS_TAR_SIZE = 2;
const HAS_CONTENT_AT = 4;

export interface EntryBatch {
  count: number;
  numbers: Float64Array;
  /**
   * Every path and link target, one after the other: as latin1 when no character of them is
   * above U+00FF (most batches: the names decode into V8's one-byte strings, half the memory of
   * two-byte ones, in the batch and in the union that keeps them), else as UTF-16LE code units
   * (any string survives, lone surrogates included).
   */
  names: Uint8Array;
  wide: boolean;
  digests: Uint8Array;
  /** Extended attributes, rare: [index in the batch, [key, value][]]. */
  xattrs: [number, [string, Uint8Array][]][];
  /** Regular files' content kept on the way (FeedOptions `keep`), rare: [index in the batch, bytes]. */
  contents: [number, Uint8Array][];
}

/** The memory a batch holds (what crosses between threads). */
export function batchBytes(b: EntryBatch): number {
  return b.numbers.byteLength + b.digests.byteLength + b.names.byteLength + b.contents.reduce((n, [, c]) => n + c.byteLength, 0);
}

/** Collects entries (each with its sha256 when a regular file) into batches. */
export class EntryBatcher {
  private numbers = new Float64Array(SLOTS * 256);
  private names: string[] = [];
  private digests = Buffer.allocUnsafeSlow(32 * 64);
  private digestBytes = 0;
  private xattrs: EntryBatch['xattrs'] = [];
  private contents: EntryBatch['contents'] = [];
  count = 0;
  /** UTF-16 units of names so far (a flush hint). */
  nameUnits = 0;

  /** `digest`: a regular file's sha256, its 32 bytes as a latin1 string; `content`: its bytes, where kept. */
  add(e: LayerEntry, digest: string | undefined, content?: Uint8Array): void {
    if ((this.count + 1) * SLOTS > this.numbers.length) {
      const grown = new Float64Array(this.numbers.length * 2);
      grown.set(this.numbers);
      this.numbers = grown;
    }
    const n = this.numbers;
    const o = this.count * SLOTS;
    n[o] = TYPE_CODE.get(e.type)!;
    n[o + 1] = e.mode;
    n[o + 2] = e.uid;
    n[o + 3] = e.gid;
    n[o + 4] = e.mtime;
    n[o + 5] = e.size;
    n[o + 6] = e.tarSize ?? 0;
    n[o + 7] = e.devMajor;
    n[o + 8] = e.devMinor;
    n[o + 9] = e.ordinal;
    n[o + 10] = e.path.length;
    n[o + 11] = e.linkname.length;
    n[o + 12] = (digest !== undefined ? HAS_DIGEST : 0) | (e.tarSize !== undefined ? HAS_TAR_SIZE : 0) | (e.contentAt !== undefined ? HAS_CONTENT_AT : 0);
    n[o + 13] = e.contentAt ?? 0;
    this.names.push(e.path, e.linkname);
    this.nameUnits += e.path.length + e.linkname.length;
    if (digest !== undefined) {
      if (this.digestBytes + 32 > this.digests.length) {
        const grown = Buffer.allocUnsafeSlow(this.digests.length * 2);
        this.digests.copy(grown);
        this.digests = grown;
      }
      this.digests.write(digest, this.digestBytes, 32, 'latin1');
      this.digestBytes += 32;
    }
    if (e.xattrs && e.xattrs.size > 0) {
      this.xattrs.push([this.count, [...e.xattrs].map(([k, v]) => [k, new Uint8Array(v)])]);
    }
    if (content) this.contents.push([this.count, content]);
    this.count++;
  }

  /** The batch so far (its buffers can be transferred), and a fresh start. */
  take(): EntryBatch {
    const names = this.names.join('');
    const wide = WIDE.test(names);
    const batch: EntryBatch = {
      count: this.count,
      numbers: this.numbers.slice(0, this.count * SLOTS),
      names: encode(names, wide ? 'utf16le' : 'latin1'),
      wide,
      // A copy (a Buffer's slice() is a view), to be transferred.
      digests: new Uint8Array(this.digests.subarray(0, this.digestBytes)),
      xattrs: this.xattrs,
      contents: this.contents,
    };
    this.names = [];
    this.xattrs = [];
    this.contents = [];
    this.count = 0;
    this.nameUnits = 0;
    this.digestBytes = 0;
    return batch;
  }
}

/** A character that latin1 cannot hold. */
const WIDE = /[^\u0000-\u00ff]/;

/** A string in a buffer of its own (Buffer.from may hand out a slice of a shared pool, which cannot be transferred). */
function encode(s: string, encoding: 'utf16le' | 'latin1'): Uint8Array {
  const b = Buffer.allocUnsafeSlow(encoding === 'utf16le' ? 2 * s.length : s.length);
  b.write(s, encoding);
  return b;
}

/**
 * Each entry of a batch, in order, with its sha256 for a regular file that has one: the 32 raw
 * bytes as a latin1 string, the form the union keeps; and its content where the reading thread
 * kept it. The entry object is the same at every call, filled anew: a visitor must not keep it.
 */
export function forEachEntry(batch: EntryBatch, visit: (e: LayerEntry, digest: string | undefined, content?: Buffer) => void): void {
  const n = batch.numbers;
  // The names decoded in one call and cut with slice(): a decode per entry cost 0.2 s of this
  // thread on 318,000 entries. (A long name kept by the union then refers to this string, as it
  // referred to its entry's path before.)
  const text = Buffer.from(batch.names.buffer, batch.names.byteOffset, batch.names.byteLength).toString(batch.wide ? 'utf16le' : 'latin1');
  const digests = Buffer.from(batch.digests.buffer, batch.digests.byteOffset, batch.digests.byteLength);
  let nameAt = 0;
  let digestAt = 0;
  let x = 0;
  let kept = 0;
  // One entry object for the whole batch, filled anew for each entry: the visitor uses an entry
  // while it is applied and keeps none (an object each was a fifth of this thread's allocation).
  const e: LayerEntry = { ordinal: 0, path: '', type: 'file', mode: 0, uid: 0, gid: 0, mtime: 0, size: 0, tarSize: undefined, contentAt: undefined, linkname: '', devMajor: 0, devMinor: 0, xattrs: undefined };
  for (let i = 0; i < batch.count; i++) {
    const o = i * SLOTS;
    const pathEnd = nameAt + n[o + 10]!;
    const linkEnd = pathEnd + n[o + 11]!;
    const flags = n[o + 12]!;
    e.ordinal = n[o + 9]!;
    e.path = text.slice(nameAt, pathEnd);
    e.type = TYPES[n[o]!]!;
    e.mode = n[o + 1]!;
    e.uid = n[o + 2]!;
    e.gid = n[o + 3]!;
    e.mtime = n[o + 4]!;
    e.size = n[o + 5]!;
    e.linkname = linkEnd > pathEnd ? text.slice(pathEnd, linkEnd) : '';
    e.devMajor = n[o + 7]!;
    e.devMinor = n[o + 8]!;
    e.tarSize = flags & HAS_TAR_SIZE ? n[o + 6]! : undefined;
    e.contentAt = flags & HAS_CONTENT_AT ? n[o + 13]! : undefined;
    e.xattrs = undefined;
    nameAt = linkEnd;
    if (x < batch.xattrs.length && batch.xattrs[x]![0] === i) {
      e.xattrs = new Map(batch.xattrs[x]![1].map(([k, v]) => [k, Buffer.from(v.buffer, v.byteOffset, v.byteLength)]));
      x++;
    }
    let digest: string | undefined;
    if (flags & HAS_DIGEST) {
      digest = digests.toString('latin1', digestAt, digestAt + 32);
      digestAt += 32;
    }
    if (kept < batch.contents.length && batch.contents[kept]![0] === i) {
      const c = batch.contents[kept++]![1];
      visit(e, digest, Buffer.from(c.buffer, c.byteOffset, c.byteLength));
    } else {
      visit(e, digest);
    }
  }
}
