// Sparse files in tar archives, as GNU tar writes them (`tar --sparse`). The archive stores only
// the data regions of the file; a sparse map says where each region lies in the file, and
// everything else, up to the file's real size, is a hole that reads as zeros. Four encodings:
//
// - old GNU ('S' typeflag, --format=gnu): four map entries (offset, length: 12-byte numbers) at
//   byte 386 of the header, `isextended` at 482, the real size at 483; while isextended is set,
//   extension blocks of 21 entries follow the header, each with its own flag at byte 504.
// - PAX 0.0: `GNU.sparse.offset` / `GNU.sparse.numbytes` records repeated in order, real size in
//   `GNU.sparse.size`.
// - PAX 0.1: the map as one record, `GNU.sparse.map=off,len,off,len,...`, and `GNU.sparse.size`.
// - PAX 1.0 (`GNU.sparse.major=1`, `GNU.sparse.minor=0`): `GNU.sparse.name` and
//   `GNU.sparse.realsize` in the PAX header; the map at the start of the entry's data as decimal
//   numbers one per line (count, then offset/length pairs), padded to a whole block; the entry's
//   size covers map and data.
//
// In every case the map must be sorted, its regions must not overlap, none may end past the real
// size, and their lengths must add up to the bytes stored.
import type { Readable } from 'node:stream';
import { LayerlensError } from '../image/errors.js';
import { quoteName } from './names.js';
import type { EntrySink } from './tar-reader.js';

export interface SparseRegion {
  /** Where the region starts in the file. */
  offset: number;
  /** Bytes of data stored for it (0 is allowed: GNU tar ends maps with one at the real size). */
  length: number;
}

export type SparseFormat = 'gnu' | 'pax-0.0' | 'pax-0.1' | 'pax-1.0';

export interface SparseInfo {
  format: SparseFormat;
  /** The data regions, in file order; the rest of the file (up to the entry's size) is holes. */
  map: SparseRegion[];
}

type Where = { file?: string; member?: string };

/** Zeros handed out for holes, as views: nothing may write into this buffer. */
const ZEROS = Buffer.alloc(64 * 1024);

/** Feed `n` zero bytes to a sink: as one `hole()` call when the sink takes them so, else in bounded chunks. */
export function feedZeros(sink: EntrySink, n: number): void {
  if (n <= 0) return;
  if (sink.hole) {
    sink.hole(n);
    return;
  }
  while (n > 0) {
    const k = Math.min(n, ZEROS.length);
    sink.data(ZEROS.subarray(0, k));
    n -= k;
  }
}


function decimal(text: string): number {
  return /^[0-9]{1,16}$/.test(text) ? Number(text) : NaN;
}

/** `off,len,off,len,...` (PAX 0.1, and 0.0 once its records are joined). */
export function parseSparseMapList(text: string, path: string, where: Where): SparseRegion[] {
  const parts = text === '' ? [] : text.split(',');
  if (parts.length % 2 !== 0) throw new LayerlensError('format', `sparse map of ${quoteName(path)} has an odd number of values`, where);
  const map: SparseRegion[] = [];
  for (let i = 0; i < parts.length; i += 2) map.push({ offset: decimal(parts[i]!), length: decimal(parts[i + 1]!) });
  return map;
}

/**
 * The PAX 1.0 map at the start of an entry's data, once enough of it is there: `lines` are the
 * newline-terminated lines read so far. Returns undefined while more lines are needed.
 */
export function parseSparseMap1x0(lines: string[], path: string, where: Where): SparseRegion[] | undefined {
  if (lines.length === 0) return undefined;
  const count = decimal(lines[0]!);
  if (!Number.isSafeInteger(count)) throw new LayerlensError('format', `sparse map of ${quoteName(path)} does not start with a count of entries`, where);
  if (lines.length < 1 + 2 * count) return undefined;
  const map: SparseRegion[] = [];
  for (let i = 0; i < count; i++) map.push({ offset: decimal(lines[1 + 2 * i]!), length: decimal(lines[2 + 2 * i]!) });
  return map;
}

/** Refuse a map that does not describe `size` bytes of file with `stored` bytes of data. */
export function validateSparseMap(map: SparseRegion[], size: number, stored: number, path: string, where: Where): void {
  const name = quoteName(path);
  if (!Number.isSafeInteger(size) || size < 0) throw new LayerlensError('format', `sparse file ${name} has an invalid real size`, where);
  let end = 0;
  let data = 0;
  for (const r of map) {
    if (!Number.isSafeInteger(r.offset) || !Number.isSafeInteger(r.length) || r.offset < 0 || r.length < 0) {
      throw new LayerlensError('format', `sparse map of ${name} holds a value that is not a valid number`, where);
    }
    if (r.offset < end) throw new LayerlensError('format', `sparse map of ${name} is out of order or overlapping: a region at ${r.offset} starts before ${end}`, where);
    if (r.offset + r.length > size) {
      throw new LayerlensError('format', `sparse map of ${name} has a region (${r.offset}+${r.length}) past the file's size of ${size} bytes`, where);
    }
    end = r.offset + r.length;
    data += r.length;
  }
  if (data !== stored) throw new LayerlensError('format', `sparse map of ${name} describes ${data} bytes of data, but the archive stores ${stored}`, where);
}

/**
 * Turns the stored data of a sparse entry into the file's content: zeros for the holes, each
 * region's data in place, zeros after the last region up to the real size. Memory stays flat:
 * holes are fed as views of one zero buffer (or as lengths, to a sink with `hole`).
 */
export class SparseExpander implements EntrySink {
  private next = 0; // index of the next map region
  private left = 0; // data bytes left in the current region
  private pos = 0; // bytes of content passed on so far

  constructor(
    private readonly map: readonly SparseRegion[],
    private readonly size: number,
    private readonly out: EntrySink,
    private readonly what: { path: string; where: Where },
  ) {}

  data(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.left === 0) {
        let r = this.map[this.next++];
        while (r && r.length === 0) r = this.map[this.next++];
        if (!r) throw new LayerlensError('format', `sparse file ${quoteName(this.what.path)} has more data than its map describes`, this.what.where);
        feedZeros(this.out, r.offset - this.pos);
        this.pos = r.offset;
        this.left = r.length;
      }
      const take = Math.min(this.left, chunk.length - at);
      this.out.data(at === 0 && take === chunk.length ? chunk : chunk.subarray(at, at + take));
      at += take;
      this.left -= take;
      this.pos += take;
    }
  }

  end(): void {
    feedZeros(this.out, this.size - this.pos);
    this.pos = this.size;
    this.out.end();
  }
}

/**
 * The content of a sparse file as a stream, from a stream of its stored data (a member of an
 * archive read in place). Zeros are produced as the reader asks for them, in fresh buffers.
 */
export async function* expandSparseStream(stored: Readable, map: readonly SparseRegion[], size: number, path: string, where: Where): AsyncGenerator<Buffer> {
  const pieces: Array<Buffer | number> = [];
  const expander = new SparseExpander(map, size, { data: (c) => pieces.push(Buffer.from(c)), hole: (n) => pieces.push(n), end: () => {} }, { path, where });
  function* drain(): Generator<Buffer> {
    for (const p of pieces) {
      if (typeof p !== 'number') {
        yield p;
        continue;
      }
      for (let n = p; n > 0; n -= ZEROS.length) yield Buffer.alloc(Math.min(n, ZEROS.length));
    }
    pieces.length = 0;
  }
  for await (const chunk of stored) {
    expander.data(chunk as Buffer);
    yield* drain();
  }
  expander.end();
  yield* drain();
}
