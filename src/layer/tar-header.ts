// One tar header block (512 bytes): ustar, GNU and old-style v7 headers, with base-256 numbers,
// and PAX extended records. Used by the streaming reader for layers and by the outer-archive
// index alike.
import { LayerlensError } from '../image/errors.js';
import type { SparseRegion } from './sparse.js';

export { decodeName } from './names.js';

export const BLOCK = 512;

export type EntryType = 'file' | 'hardlink' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo' | 'other';

export interface RawHeader {
  name: Buffer;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  typeflag: string;
  linkname: Buffer;
  uname: string;
  gname: string;
  devMajor: number;
  devMinor: number;
  /** 'ustar' (POSIX), 'gnu' (GNU tar's "ustar  "), or 'v7' (no magic). */
  format: 'ustar' | 'gnu' | 'v7';
  /** GNU sparse ('S') headers: the apparent file size. */
  gnuRealSize?: number;
  /** GNU sparse ('S') headers: the map entries in the header, and whether extension blocks follow. */
  gnuSparse?: { map: SparseRegion[]; extended: boolean };
}

function isZeroBlock(b: Buffer, at: number): boolean {
  for (let i = at; i < at + BLOCK; i += 8) {
    // Eight bytes at a time keeps this cheap on the end-of-archive blocks.
    if (b[i] !== 0 || b[i + 1] !== 0 || b[i + 2] !== 0 || b[i + 3] !== 0 || b[i + 4] !== 0 || b[i + 5] !== 0 || b[i + 6] !== 0 || b[i + 7] !== 0) return false;
  }
  return true;
}

/** Where the NUL-terminated field of `len` bytes at `start` ends. */
function fieldEnd(b: Buffer, start: number, len: number): number {
  let end = start;
  const max = start + len;
  while (end < max && b[end] !== 0) end++;
  return end;
}

function cString(b: Buffer, start: number, len: number): Buffer {
  // Most link names and prefixes are empty: no view for them.
  if (b[start] === 0) return EMPTY;
  return b.subarray(start, fieldEnd(b, start, len));
}

const EMPTY = Buffer.alloc(0);

/** A NUL-terminated text field as a string (user and group names): the last one is reused, as most entries share it. */
function cText(b: Buffer, start: number, len: number): string {
  if (b[start] === 0) return '';
  const end = fieldEnd(b, start, len);
  if (end - start === lastText.length) {
    let same = true;
    for (let i = start; i < end; i++) {
      // (ASCII only: a byte is a character of the decoded text only below 0x80.)
      if (b[i]! > 0x7f || b[i] !== lastText.charCodeAt(i - start)) {
        same = false;
        break;
      }
    }
    if (same) return lastText;
  }
  lastText = b.toString('utf8', start, end);
  return lastText;
}

let lastText = '';

/** A numeric field: octal text, or base-256 when the high bit of the first byte is set. */
export function parseNumeric(b: Buffer, start: number, len: number): number {
  const first = b[start]!;
  if (first & 0x80) {
    // Base-256: the top bit marks the encoding, the rest is big-endian two's complement, so bit 6
    // of the first byte is the sign (GNU tar writes mtime -1 as twelve 0xff bytes). A negative
    // number is read as the inverted bytes' value v, which is -(v + 1).
    const invert = first & 0x40 ? 0xff : 0;
    let value = 0;
    for (let i = start; i < start + len; i++) {
      let byte = b[i]! ^ invert;
      if (i === start) byte &= 0x7f;
      value = value * 256 + byte;
      if (value > Number.MAX_SAFE_INTEGER) return NaN;
    }
    return invert ? -(value + 1) : value;
  }
  let value = 0;
  let i = start;
  const end = start + len;
  while (i < end && (b[i] === 0x20 || b[i] === 0)) i++;
  let digits = 0;
  for (; i < end; i++) {
    const c = b[i]!;
    if (c === 0x20 || c === 0) break;
    if (c < 0x30 || c > 0x37) return NaN;
    value = value * 8 + (c - 0x30);
    digits++;
  }
  return digits === 0 ? 0 : value;
}

/**
 * The sum of a block's 512 bytes. Header blocks are parsed at every entry, so when the block is
 * 4-byte aligned it is summed a word at a time, two 16-bit lanes at once (128 words of at most
 * 2 × 255 per lane stay below 65536), through one word view per buffer: a reader passes the same
 * few buffers block after block, and a view made per header cost as much as the sum.
 */
function sumBytes(b: Buffer, at: number): number {
  const offset = b.byteOffset + at;
  if ((offset & 3) === 0) {
    let w32: Uint32Array;
    let i: number;
    if (b.buffer === wordsOf && (offset >>> 2) + BLOCK / 4 <= words.length) {
      w32 = words;
      i = offset >>> 2;
    } else if (b.buffer.byteLength <= MAX_KEPT_VIEW) {
      // (Kept only for a buffer of a reader's size: the view holds its buffer alive.)
      wordsOf = b.buffer;
      w32 = words = new Uint32Array(b.buffer, 0, b.buffer.byteLength >>> 2);
      i = offset >>> 2;
    } else {
      w32 = new Uint32Array(b.buffer, offset, BLOCK / 4);
      i = 0;
    }
    let lanes = 0;
    for (const end = i + BLOCK / 4; i < end; i++) {
      const w = w32[i]!;
      lanes += (w & 0x00ff00ff) + ((w >>> 8) & 0x00ff00ff);
    }
    return (lanes & 0xffff) + (lanes >>> 16);
  }
  let sum = 0;
  for (let i = at; i < at + BLOCK; i++) sum += b[i]!;
  return sum;
}

/** The last buffer sumBytes read, and its words. */
let wordsOf: ArrayBufferLike | undefined;
let words: Uint32Array = new Uint32Array(0);
const MAX_KEPT_VIEW = 4 * 1024 * 1024;

function checksumOk(b: Buffer, at: number): boolean {
  const stored = parseNumeric(b, at + 148, 8);
  // The checksum field counts as eight spaces. Sum the block in one tight loop, then correct.
  let unsigned = sumBytes(b, at);
  for (let i = at + 148; i < at + 156; i++) unsigned -= b[i]!;
  unsigned += 8 * 0x20;
  if (stored === unsigned) return true;
  // Some old writers summed signed bytes.
  let signed = unsigned;
  for (let i = at; i < at + BLOCK; i++) if (b[i]! > 127 && (i < at + 148 || i >= at + 156)) signed -= 256;
  return stored === signed;
}

/**
 * Parse the header block at `at`. Returns null for a block of zeros (end of archive).
 * Throws a format error for a block that is not a tar header.
 */
export function parseHeader(b: Buffer, at: number, where: { file?: string; member?: string }, offset: number): RawHeader | null {
  if (isZeroBlock(b, at)) return null;
  if (!checksumOk(b, at)) {
    throw new LayerlensError('format', `not a tar header at byte ${offset} (checksum mismatch)`, where);
  }
  // "ustar\0" (POSIX), "ustar " (GNU's "ustar  \0"), or neither (v7).
  const ustar = b[at + 257] === 0x75 && b[at + 258] === 0x73 && b[at + 259] === 0x74 && b[at + 260] === 0x61 && b[at + 261] === 0x72;
  const format = ustar && b[at + 262] === 0 ? 'ustar' : ustar && b[at + 262] === 0x20 ? 'gnu' : 'v7';
  let name = cString(b, at, 100);
  if (format === 'ustar') {
    const prefix = cString(b, at + 345, 155);
    if (prefix.length > 0) name = Buffer.concat([prefix, Buffer.from('/'), name]);
  }
  const typeflag = b[at + 156] === 0 ? '0' : String.fromCharCode(b[at + 156]!);
  const size = parseNumeric(b, at + 124, 12);
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new LayerlensError('format', `tar header at byte ${offset} has an invalid size`, where);
  }
  const mode = parseNumeric(b, at + 100, 8);
  const uid = parseNumeric(b, at + 108, 8);
  const gid = parseNumeric(b, at + 116, 8);
  const mtime = parseNumeric(b, at + 136, 12);
  // A v7 header has no device fields: those bytes are padding there.
  const devMajor = format === 'v7' ? 0 : parseNumeric(b, at + 329, 8);
  const devMinor = format === 'v7' ? 0 : parseNumeric(b, at + 337, 8);
  // A number field that is not a number (an empty one reads as 0) makes the header unreadable,
  // as Go's archive/tar (containerd, umoci) finds it: read as NaN, it reached the listings, and
  // export wrote it back as a PAX record no tar reads.
  const bad = Number.isNaN(mode) ? 'mode' : Number.isNaN(uid) ? 'uid' : Number.isNaN(gid) ? 'gid' : Number.isNaN(mtime) ? 'mtime' : Number.isNaN(devMajor) || Number.isNaN(devMinor) ? 'device number' : undefined;
  if (bad !== undefined) throw new LayerlensError('format', `tar header at byte ${offset} has an invalid ${bad}`, where);
  const header: RawHeader = {
    name,
    mode: mode & 0o7777,
    uid,
    gid,
    size,
    mtime,
    typeflag,
    linkname: cString(b, at + 157, 100),
    uname: cText(b, at + 265, 32),
    gname: cText(b, at + 297, 32),
    devMajor,
    devMinor,
    format,
  };
  if (format === 'gnu' && typeflag === 'S') {
    header.gnuRealSize = parseNumeric(b, at + 483, 12);
    const map: SparseRegion[] = [];
    readOldGnuSparseEntries(b, at + 386, 4, map);
    header.gnuSparse = { map, extended: b[at + 482] !== 0 };
  }
  return header;
}

/** Old GNU sparse map entries (offset, length: 12-byte numbers) in a header or an extension block. */
export function readOldGnuSparseEntries(b: Buffer, at: number, count: number, into: SparseRegion[]): void {
  for (let i = 0; i < count; i++) {
    const p = at + i * 24;
    // As GNU tar and BSD tar read it: an entry whose offset field starts with NUL ends the list.
    if (b[p] === 0) break;
    into.push({ offset: parseNumeric(b, p, 12), length: parseNumeric(b, p + 12, 12) });
  }
}

export function entryType(typeflag: string): EntryType {
  switch (typeflag) {
    case '0':
    case '7':
      return 'file';
    case '1':
      return 'hardlink';
    case '2':
      return 'symlink';
    case '3':
      return 'char';
    case '4':
      return 'block';
    case '5':
      return 'dir';
    case '6':
      return 'fifo';
    case 'S':
      return 'file';
    default:
      return 'other';
  }
}

/** Typeflags whose content describes the next entry rather than being an entry. */
export function isMetaTypeflag(typeflag: string): boolean {
  return typeflag === 'x' || typeflag === 'g' || typeflag === 'L' || typeflag === 'K' || typeflag === 'X';
}

/**
 * PAX records: `LEN key=value\n`, LEN counting the whole record. Values stay bytes. A repeated
 * keyword keeps its last value, as POSIX says, except GNU tar's sparse format 0.0, whose
 * `GNU.sparse.offset` / `GNU.sparse.numbytes` pairs repeat in order: they are gathered, in order,
 * into one `GNU.sparse.map` value as format 0.1 writes it.
 */
export function parsePax(data: Buffer, where: { file?: string; member?: string }): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const sparse0: string[] = [];
  let i = 0;
  while (i < data.length) {
    if (data[i] === 0) break; // some writers pad with NULs
    let sp = i;
    while (sp < data.length && data[sp] !== 0x20) sp++;
    const len = Number(data.toString('latin1', i, sp));
    if (!Number.isSafeInteger(len) || len <= sp - i || i + len > data.length) {
      throw new LayerlensError('format', 'malformed PAX extended header record', where);
    }
    const record = data.subarray(sp + 1, i + len - 1); // drop the trailing newline
    const eq = record.indexOf(0x3d);
    if (eq < 0) throw new LayerlensError('format', 'PAX record without "="', where);
    const key = record.toString('utf8', 0, eq);
    const value = record.subarray(eq + 1);
    if (key === 'GNU.sparse.offset' || key === 'GNU.sparse.numbytes') {
      if ((key === 'GNU.sparse.offset') !== (sparse0.length % 2 === 0) || value.includes(0x2c)) {
        throw new LayerlensError('format', 'PAX sparse map (GNU.sparse.offset and GNU.sparse.numbytes records) is not in offset, numbytes order', where);
      }
      sparse0.push(value.toString('latin1'));
    }
    out.set(key, value);
    i += len;
  }
  if (sparse0.length > 0) out.set('GNU.sparse.map', Buffer.from(sparse0.join(','), 'latin1'));
  return out;
}
